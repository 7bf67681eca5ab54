"""Prepared statements (community/db/prepared.py): the hot paths' hand-written statements are
prepared once per connection and then run by name; nothing else is ever prepared, nothing is
behind PgBouncer, and the cursor stays Django's (query counts, error classes)."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection
from django.test.utils import CaptureQueriesContext

from community.db.prepared import prepared_cursor
from community.member_store import membership_of
from community.models import Membership
from tests.factories import MembershipFactory

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="prepared statements: PostgreSQL"),
    pytest.mark.django_db,
]


def _prepared() -> list[tuple[str, int]]:
    """This session's prepared statements: (text, times planned or run from its plans)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT statement, generic_plans + custom_plans FROM pg_prepared_statements "
            "WHERE statement NOT LIKE '%%pg_prepared_statements%%'"
        )
        return cursor.fetchall()


def _check(membership) -> Membership | None:
    return membership_of(
        community_id=membership.community_id, user_id=membership.user_id, statuses=["active"]
    )


def test_the_membership_check_is_prepared_once_and_then_run_by_name():
    membership = MembershipFactory()
    assert _prepared() == []
    for _ in range(3):
        assert _check(membership) == membership
    [(statement, runs)] = _prepared()
    assert 'FROM "community_membership" m' in statement and "$1" in statement
    assert runs == 3  # one statement, run three times: parsed once


def test_orm_queries_are_never_prepared():
    membership = MembershipFactory()
    for _ in range(10):  # well past psycopg's default threshold of 5
        assert Membership.objects.filter(user_id=membership.user_id).count() == 1
    assert _prepared() == []


def test_behind_pgbouncer_the_check_runs_unprepared():
    """``DB_POOLER=pgbouncer`` sets psycopg's threshold to None (tests/community/test_pooler.py):
    a prepared statement would stay in whichever server session prepared it."""
    membership = MembershipFactory()
    raw = connection.connection
    saved, raw.prepare_threshold = raw.prepare_threshold, None
    try:
        for _ in range(3):
            assert _check(membership) == membership
        assert _prepared() == []
    finally:
        raw.prepare_threshold = saved
    assert _check(membership) == membership  # control: the same check, prepared
    assert len(_prepared()) == 1


def test_prepared_statements_are_counted_and_raise_django_errors():
    membership = MembershipFactory()
    with CaptureQueriesContext(connection) as captured:
        _check(membership)
    assert len(captured) == 1 and 'FROM "community_membership" m' in captured[0]["sql"]
    with pytest.raises(IntegrityError), prepared_cursor() as cursor:
        cursor.execute(
            "INSERT INTO community_membership (community_id, user_id, tier, status, joined_at) "
            "SELECT community_id, user_id, tier, status, joined_at FROM community_membership "
            "WHERE id = %s",
            [membership.pk],
        )
