"""Leaving cannot shed a ban that lands while the leave is in flight (PostgreSQL, real threads).

A leave request loads the member's row (active), then a moderator's ban commits, then the
leave writes. The leave's ``UPDATE`` applies only to a row that is still active, muted or
pending when it runs (PostgreSQL re-checks the condition on the row version it waited for),
so the ban wins. The control runs the unguarded statement the service used before and shows
the ban being overwritten with ``left``, after which the user could join again."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, transaction

from community.errors import NotFound
from community.models import Membership
from community.services.communities import community_leave, membership_ban
from tests.factories import CommunityFactory, MembershipFactory
from tests.waiting import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("concurrency tests need PostgreSQL (set DATABASE_URL)")


def _someone_waits_for_a_row_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0] > 0


def _leave_while_banned(leave) -> tuple[str, object]:
    """Run ``leave(stale_copy)`` while a ban holds the member's row, then let the ban commit
    first. Returns the member's final status and what ``leave`` returned or raised."""
    community = CommunityFactory()
    moderator = MembershipFactory(community=community, tier="moderator")
    target = MembershipFactory(community=community)
    stale = Membership.objects.get(pk=target.pk)  # what the leave request loaded: active
    banned, release = threading.Event(), threading.Event()
    outcome: dict = {}

    def ban():
        try:
            with transaction.atomic():
                membership_ban(actor=moderator, target_id=target.pk)
                banned.set()
                release.wait(10)
        finally:
            connection.close()

    def leave_now():
        banned.wait(10)
        try:
            outcome["result"] = leave(stale)
        except Exception as exc:  # noqa: BLE001 - the outcome is what the test inspects
            outcome["result"] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=ban), threading.Thread(target=leave_now)]
    for thread in threads:
        thread.start()
    wait_for(
        _someone_waits_for_a_row_lock, timeout=10, interval=0.02
    )  # the leave is blocked behind the ban's lock
    release.set()
    for thread in threads:
        thread.join()
    target.refresh_from_db()
    return target.status, outcome["result"]


def test_a_ban_committed_during_a_leave_stays():
    status, result = _leave_while_banned(lambda m: community_leave(membership=m))
    assert status == "banned"
    assert isinstance(result, NotFound)


def test_control_the_unguarded_update_overwrites_the_ban():
    status, _result = _leave_while_banned(
        lambda m: Membership.objects.filter(pk=m.pk).update(status="left", tier="member")
    )
    assert status == "left"
