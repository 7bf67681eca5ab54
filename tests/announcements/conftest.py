"""Announcement tests run without WeChat's content check unless a test turns it on."""

import pytest

from announcements.services import categories_create_defaults


@pytest.fixture(autouse=True)
def _no_content_check(settings):
    settings.WECHAT_CONTENT_CHECK = False


@pytest.fixture
def categories(community):
    categories_create_defaults(community=community)
    return {c.name: c for c in community.announcement_categories.all()}


@pytest.fixture
def admin(make_member):
    return make_member(tier="admin")
