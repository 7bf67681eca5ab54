"""Joining under concurrency, on PostgreSQL with real threads and connections."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from community.models import Community, Membership, WeChatSession
from tests.community.test_communities import SESSION_KEY, share_ticket
from tests.conftest import client_for
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def run_in_threads(calls):
    """Run each callable in its own thread (and DB connection), all released together."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def worker(index, call):
        try:
            barrier.wait()
            results[index] = call()
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("concurrency tests need PostgreSQL (set DATABASE_URL)")


def test_members_arriving_together_from_a_new_group_create_one_community():
    clients = []
    for _ in range(8):
        user = UserFactory()
        WeChatSession.objects.create(user=user, session_key=SESSION_KEY)
        clients.append(client_for(user))
    ticket = share_ticket("G-race")
    responses = run_in_threads(
        [
            lambda c=c: c.post("/api/v1/communities/join/share-ticket", ticket, format="json")
            for c in clients
        ]
    )
    assert [r.status_code for r in responses] == [200] * 8
    assert Community.objects.filter(open_gid="G-race").count() == 1
    community = Community.objects.get(open_gid="G-race")
    assert Membership.objects.filter(community=community).count() == 8
    assert Membership.objects.filter(community=community, tier="owner").count() == 1


def test_the_same_member_joining_twice_at_once_has_one_membership(community):
    user = UserFactory()
    client = client_for(user)
    body = {"invite_code": community.invite_code}
    responses = run_in_threads(
        [lambda: client.post("/api/v1/communities/join/invite", body, format="json")] * 4
    )
    assert [r.status_code for r in responses] == [200] * 4
    assert Membership.objects.filter(community=community, user=user).count() == 1
