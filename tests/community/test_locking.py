"""The locking helper: only inside a transaction, only the rows meant, FOR NO KEY UPDATE, so
foreign-key inserts pointing at a locked row go through."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import OperationalError, connection, connections, transaction
from django.test.utils import CaptureQueriesContext

from community.locking import LockOutsideTransaction, Strength, lock_rows, lock_sql
from community.models import Community, Membership, Notification
from tests.factories import MembershipFactory, UserFactory

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row-lock modes need PostgreSQL"
)


@pytest.mark.django_db(transaction=True)
def test_refuses_to_lock_outside_a_transaction():
    community = MembershipFactory().community
    with pytest.raises(LockOutsideTransaction):
        lock_rows(Community.objects.filter(pk=community.pk)).first()
    with pytest.raises(LockOutsideTransaction):
        lock_sql()
    with transaction.atomic():  # control: the same calls inside a transaction work
        assert lock_rows(Community.objects.filter(pk=community.pk)).get() == community
        lock_sql(Strength.SHARE)


@postgres_only
@pytest.mark.django_db
def test_locks_only_its_own_rows_for_no_key_update_in_key_order():
    membership = MembershipFactory()
    queryset = Membership.objects.select_related("community", "user").filter(pk=membership.pk)
    with CaptureQueriesContext(connection) as captured, transaction.atomic():
        list(lock_rows(queryset))
        lock_rows(queryset, for_delete=True).get()
    weak, strong = (q["sql"] for q in captured.captured_queries if q["sql"].startswith("SELECT"))
    assert 'JOIN "community_community"' in weak  # joined rows are read, not locked
    assert weak.endswith(' ORDER BY "community_membership"."id" ASC FOR NO KEY UPDATE OF "community_membership"')  # fmt: skip
    assert strong.endswith(' FOR UPDATE OF "community_membership"')
    with transaction.atomic():
        assert lock_sql() == " FOR NO KEY UPDATE"
        assert lock_sql(Strength.SHARE) == " FOR SHARE"


def _in_other_connection(work):
    """Run ``work()`` in a thread with its own database connection, giving up on any lock
    after 1 s; return its result or the exception it raised."""

    def run():
        try:
            with connection.cursor() as cursor:
                cursor.execute("SET lock_timeout = '1s'")
            return work()
        except OperationalError as exc:
            return exc
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(run).result(timeout=30)


def _insert_pointing_at(community):
    user = UserFactory()
    with transaction.atomic():
        Membership.objects.create(community=community, user=user)
        Notification.objects.create(
            community=community, recipient=user, kind="test", object_key="x"
        )
    return "inserted"


def _lock_joined_community(community):
    with transaction.atomic():
        Community.objects.select_for_update(nowait=True).get(pk=community.pk)
    return "locked"


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_fk_inserts_and_joined_rows_are_not_blocked_by_a_helper_lock():
    """While one transaction holds a community (and a membership joined to it) through the
    helper, another connection still adds members and notifications pointing at that
    community, and the joined community row is not locked at all."""
    membership = MembershipFactory()
    community = membership.community
    with transaction.atomic():
        lock_rows(Community.objects.filter(pk=community.pk)).get()
        assert _in_other_connection(lambda: _insert_pointing_at(community)) == "inserted"
    with transaction.atomic():
        lock_rows(Membership.objects.select_related("community").filter(pk=membership.pk)).get()
        assert _in_other_connection(lambda: _lock_joined_community(community)) == "locked"


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_control_a_plain_select_for_update_blocks_fk_inserts_and_locks_joined_rows():
    """Control: Django's default ``select_for_update()`` takes ``FOR UPDATE`` on every row of
    the query, so the same insert times out and the joined community is locked."""
    membership = MembershipFactory()
    community = membership.community
    with transaction.atomic():
        Community.objects.select_for_update().get(pk=community.pk)
        outcome = _in_other_connection(lambda: _insert_pointing_at(community))
    assert isinstance(outcome, OperationalError) and "lock timeout" in str(outcome)
    with transaction.atomic():
        Membership.objects.select_for_update().select_related("community").get(pk=membership.pk)
        outcome = _in_other_connection(lambda: _lock_joined_community(community))
    assert isinstance(outcome, OperationalError) and "could not obtain lock" in str(outcome)
