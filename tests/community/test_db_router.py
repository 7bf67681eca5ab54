"""The read replica router (community/db_router.py): reads that may lag go to the replica, every
other read and every write to the primary, and a replica that does not answer is skipped."""

from __future__ import annotations

import socket
import time

import pytest
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.test.utils import CaptureQueriesContext

from community import db_router
from community.dashboard import dashboard_for
from community.models import Community, Tier
from tests.factories import CommunityFactory, MembershipFactory, UserFactory
from tests.replica import replica_alias

pytestmark = pytest.mark.skipif(
    connections["default"].vendor != "postgresql", reason="needs PostgreSQL"
)


def dead_port() -> int:
    """A 127.0.0.1 port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_without_a_replica_every_read_goes_to_the_primary(db):
    assert not db_router.replica_configured()
    with db_router.lagging_reads() as alias:
        assert alias == DEFAULT_DB_ALIAS
        assert Community.objects.all().db == DEFAULT_DB_ALIAS


def test_lagging_reads_go_to_the_replica_and_writes_stay_on_the_primary(transactional_db):
    community = CommunityFactory(name="before")
    with replica_alias():
        assert Community.objects.all().db == DEFAULT_DB_ALIAS  # no hint: the primary
        with (
            CaptureQueriesContext(connections["replica"]) as on_replica,
            CaptureQueriesContext(connections["default"]) as on_primary,
            db_router.lagging_reads() as alias,
        ):
            assert alias == "replica"
            loaded = Community.objects.get(pk=community.pk)
            assert loaded._state.db == "replica"
            loaded.name = "after"
            loaded.save(update_fields=["name"])
        assert any("SELECT" in q["sql"] for q in on_replica.captured_queries)
        assert not any("UPDATE" in q["sql"] for q in on_replica.captured_queries)
        assert any("UPDATE" in q["sql"] for q in on_primary.captured_queries)
        # Outside the block, even an object read from the replica reads related rows from the
        # primary.
        assert db_router.ReplicaRouter().db_for_read(Community, instance=loaded) == "default"
    assert Community.objects.get(pk=community.pk).name == "after"


def test_inside_a_transaction_lagging_reads_stay_on_the_primary(transactional_db):
    with replica_alias(), transaction.atomic():
        community = CommunityFactory()
        with db_router.lagging_reads() as alias:
            assert alias == DEFAULT_DB_ALIAS
            assert Community.objects.filter(pk=community.pk).exists()  # its own write


def test_an_unreachable_replica_falls_back_to_the_primary_quickly(transactional_db, caplog):
    staff = UserFactory(is_staff=True)
    MembershipFactory(user=staff, tier=Tier.MODERATOR)
    with replica_alias(port=dead_port()):
        started = time.monotonic()
        panels = dashboard_for(user=staff)
        assert len(panels) == 1 and panels[0].members == 1
        assert time.monotonic() - started < 3
        assert "read replica unavailable" in caplog.text
        # Marked down: the next read does not try again (no second connection attempt).
        caplog.clear()
        assert db_router.read_alias() == DEFAULT_DB_ALIAS
        assert "read replica unavailable" not in caplog.text


def test_a_replica_that_fails_mid_read_is_retried_on_the_primary(transactional_db):
    community = CommunityFactory()
    calls: list[str] = []

    @db_router.lagging
    def read() -> str:
        alias = Community.objects.all().db
        calls.append(alias)
        if alias == "replica":
            # The standby goes away while the read runs: its backend is terminated.
            pid = connections["replica"].connection.info.backend_pid
            with connections["default"].cursor() as cursor:
                cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
        return Community.objects.get(pk=community.pk).name

    with replica_alias():
        assert read() == community.name
    assert calls == ["replica", "default"]


def test_the_admin_dashboard_reads_its_figures_from_the_replica(transactional_db):
    staff = UserFactory(is_staff=True)
    MembershipFactory(user=staff, tier=Tier.MODERATOR)
    with replica_alias(), CaptureQueriesContext(connections["replica"]) as on_replica:
        panels = dashboard_for(user=staff)
    assert panels[0].members == 1
    sql = " ".join(q["sql"] for q in on_replica.captured_queries)
    assert "community_membership" in sql and "COUNT" in sql
