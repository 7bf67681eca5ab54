"""Fixtures of the insights tests: the activity buffer on the test Redis, counts read back."""

from __future__ import annotations

import pytest
from django.test import override_settings

from insights.models import MemberDay
from insights.recording import BUFFER_KEY, FLUSHING_KEY, buffer_client
from tests.conftest import redis_test_url


@pytest.fixture
def redis_buffer():
    """The activity buffer on the test Redis (emptied before and after)."""
    with override_settings(INSIGHTS_REDIS_URL=redis_test_url()):
        client = buffer_client()
        client.delete(BUFFER_KEY, FLUSHING_KEY)
        yield client
        client.delete(BUFFER_KEY, FLUSHING_KEY)


@pytest.fixture(autouse=True)
def _no_content_check(settings):
    settings.WECHAT_CONTENT_CHECK = False


def day_counts(membership) -> dict[str, int]:
    """Every non-zero counter of the member's member-days, summed."""
    totals: dict[str, int] = {}
    for row in MemberDay.objects.filter(
        community_id=membership.community_id, user_id=membership.user_id
    ).values():
        for key, value in row.items():
            if key not in ("id", "community_id", "user_id", "day") and value:
                totals[key] = totals.get(key, 0) + value
    return totals
