"""Members vote "was this helpful?" at the same moment (PostgreSQL, real threads): the entry's
row is locked before the vote is written and the counters recounted, so none is lost, and a
member's parallel retries keep one vote."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from assistant.models import FaqEntry, FaqFeedback
from assistant.services import faq_feedback_set
from tests.factories import CommunityFactory, MembershipFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _postgres_only(settings):
    settings.WECHAT_CONTENT_CHECK = False
    if connection.vendor != "postgresql":
        pytest.skip("concurrency tests need PostgreSQL (set DATABASE_URL)")


def test_parallel_votes_are_all_counted_once_each():
    community = CommunityFactory()
    entry = FaqEntry.objects.create(
        community=community, question="怎么报名", answer="点报名", status="published"
    )
    members = [MembershipFactory(community=community) for _ in range(12)]
    # Each member votes twice at once (a retried request): helpful for the first 8, not for 4.
    votes = [(m, i < 8) for i, m in enumerate(members) for _ in range(2)]
    start = threading.Barrier(len(votes))
    errors: list = []

    def vote(membership, helpful):
        try:
            start.wait(10)
            faq_feedback_set(membership=membership, entry_id=entry.pk, helpful=helpful)
        except Exception as exc:  # noqa: BLE001 (reported below)
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=vote, args=v) for v in votes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    entry.refresh_from_db()
    assert (entry.helpful_yes, entry.helpful_no) == (8, 4)
    assert FaqFeedback.objects.filter(entry=entry).count() == 12
