"""Two writers press "remind" at the same moment (PostgreSQL, real threads): the reminder is
claimed by one conditional UPDATE of ``reminded_at``, so exactly one call queues it and the
other answers 409 ``already_reminded``; each member gets one message."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from announcements.services import announcement_create, announcement_remind
from community.errors import Conflict
from community.models import Notification
from tests.factories import CommunityFactory, MembershipFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _postgres_only(settings):
    settings.WECHAT_CONTENT_CHECK = False
    if connection.vendor != "postgresql":
        pytest.skip("concurrency tests need PostgreSQL (set DATABASE_URL)")


def test_two_admins_reminding_at_once_remind_once():
    community = CommunityFactory()
    first = MembershipFactory(community=community, tier="owner")
    second = MembershipFactory(community=community, tier="admin")
    members = [MembershipFactory(community=community) for _ in range(5)]
    announcement = announcement_create(actor=first, title="请确认", requires_confirmation=True)
    start = threading.Barrier(2)
    outcomes: list = []

    def remind(actor):
        try:
            start.wait(5)
            outcomes.append(announcement_remind(actor=actor, announcement_id=announcement.pk))
        except Conflict as exc:
            outcomes.append(exc.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=remind, args=(a,)) for a in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert sorted(outcomes, key=str) == sorted([7, "already_reminded"], key=str)
    reminders = Notification.objects.filter(kind="announcement_reminder")
    assert reminders.count() == 7
    assert {m.user_id for m in members} <= set(reminders.values_list("recipient_id", flat=True))
