"""Moderation tests run without WeChat's content check unless a test turns it on (and points
it at the fake server)."""

import pytest


@pytest.fixture(autouse=True)
def _no_content_check(settings):
    settings.WECHAT_CONTENT_CHECK = False
