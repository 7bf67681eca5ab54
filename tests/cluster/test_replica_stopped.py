"""The hot standby stopped: lagging reads (the admin dashboard's figures, a survey's published
results, frozen poll results, exports) fall back to the primary, nothing fails; started again,
the standby catches up and serves them again."""

from __future__ import annotations

import time
from datetime import timedelta

import httpx
from django.db import connection
from django.utils import timezone

from community.models import Tier
from community.services.tokens import token_issue
from polls import services as poll_services
from polls.models import Poll
from tests.cluster.conftest import LB, script, wait_until
from tests.factories import CommunityFactory, MembershipFactory


def replica_has(poll_id: str) -> bool:
    import psycopg

    dsn = script("env").split("DATABASE_REPLICA_URL=")[1].split()[0]
    with psycopg.connect(dsn, connect_timeout=2) as conn:
        return conn.execute("SELECT 1 FROM polls_poll WHERE id = %s", [poll_id]).fetchone()


def test_lagging_reads_fall_back_to_the_primary_when_the_replica_stops(cluster_db, settings):
    settings.WECHAT_CONTENT_CHECK = False
    community = CommunityFactory()
    author = MembershipFactory(community=community, tier=Tier.MODERATOR)
    poll = poll_services.poll_create(
        actor=author,
        title="replica",
        kind="single",
        closes_at=timezone.now() + timedelta(days=1),
        options=[{"label": "A"}, {"label": "B"}],
    )
    voters = [MembershipFactory(community=community) for _ in range(3)]
    tokens = [token_issue(user=m.user).raw for m in voters]
    option = poll.options.order_by("position").first().pk
    for token in tokens:
        response = httpx.put(
            f"{LB}/api/v1/polls/{poll.pk}/ballot",
            json={"option_ids": [option]},
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )
        assert response.status_code == 200, response.text
    # Closed a second ago. It opened when created, and on a quick run that was less than a
    # second ago: move the opening back too (closes_at > opens_at is a database constraint).
    now = timezone.now()
    Poll.objects.filter(pk=poll.pk).update(
        opens_at=now - timedelta(minutes=1), closes_at=now - timedelta(seconds=1)
    )
    connection.close()

    def results() -> list[int]:
        statuses = []
        for token in tokens * 4:  # both nodes, every worker process
            response = httpx.get(
                f"{LB}/api/v1/polls/{poll.pk}/results",
                headers={"Authorization": f"Bearer {token}"},
                timeout=30,
            )
            statuses.append(response.status_code)
            if response.status_code == 200:
                assert response.json()["participant_count"] == 3
        return statuses

    assert set(results()) == {200}  # the first read freezes them; later reads lag safely
    wait_until(lambda: bool(replica_has(poll.pk)), timeout=30, what="the standby to catch up")

    script("replica-stop")
    try:
        started = time.monotonic()
        statuses = results()
        elapsed = time.monotonic() - started
        print(f"\nreplica stopped: {len(statuses)} result reads in {elapsed:.1f} s, {statuses}")
        assert set(statuses) == {200}
        ready = httpx.get(f"{LB}/health/ready", timeout=10)
        assert ready.status_code == 200  # the replica is not part of readiness
    finally:
        script("replica-start")
    assert set(results()) == {200}
