"""Lucky draw tests run without WeChat's content check unless a test turns it on."""

from datetime import timedelta

import pytest
from django.utils import timezone


@pytest.fixture(autouse=True)
def _no_content_check(settings):
    settings.WECHAT_CONTENT_CHECK = False


@pytest.fixture
def admin(make_member):
    return make_member(tier="admin")


@pytest.fixture
def soon():
    return timezone.now() + timedelta(hours=1)
