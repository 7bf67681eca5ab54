"""A vote and sign-up storm through the load balancer while one app node is killed (SIGKILL)
and started again: every request is answered by the other node or was in flight on the dead
one; the tallies equal the stored ballots and the seats taken equal the seats held, within
capacity."""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import timedelta

import httpx
from django.db import connection
from django.utils import timezone

from community.models import Tier
from community.services.tokens import token_issue
from events import services as event_services
from events.models import Event, Registration
from tests.cluster.conftest import APP_PORTS, LB, ready, script, wait_until
from tests.factories import CommunityFactory, MembershipFactory
from tests.faults.storm import Storm, assert_tallies_exact, election

VOTERS = 8
SIGNUPS = 40
CAPACITY = 25


def test_storm_survives_an_app_node_killed_and_restarted(cluster_db, settings):
    settings.WECHAT_CONTENT_CHECK = False
    votes = election(VOTERS)
    community = CommunityFactory()
    owner = MembershipFactory(community=community, tier=Tier.OWNER)
    event = event_services.event_create(
        actor=owner,
        title="cluster",
        starts_at=timezone.now() + timedelta(days=3),
        capacity=CAPACITY,
    )
    members = [MembershipFactory(community=community) for _ in range(SIGNUPS)]
    tokens = [token_issue(user=m.user).raw for m in members]
    connection.close()

    signup_answers: list[tuple[int, int]] = []  # (member index, status)
    lock = threading.Lock()

    def sign_up(i: int) -> None:
        time.sleep(i * 0.1)  # spread over the kill
        with httpx.Client(headers={"Authorization": f"Bearer {tokens[i]}"}, timeout=30) as c:
            try:
                status = c.put(
                    f"{LB}/api/v1/events/{event.pk}/registration", json={"guests": 0}
                ).status_code
            except httpx.HTTPError:
                status = 0
        with lock:
            signup_answers.append((i, status))

    signers = [threading.Thread(target=sign_up, args=(i,)) for i in range(SIGNUPS)]
    with Storm(LB, votes) as storm:
        for thread in signers:
            thread.start()
        wait_until(lambda: storm.sent >= 20, timeout=60, what="the storm under way")
        script("node-kill", "app1", "KILL")
        killed_at = storm.sent
        time.sleep(1.5)
        script("node-start", "app1")
        wait_until(lambda: ready(f"http://127.0.0.1:{APP_PORTS['app1']}"), timeout=60, what="app1")
        time.sleep(3.0)  # the balancer's checks bring app1 back; the storm goes on
        for thread in signers:
            thread.join(timeout=60)
    statuses = votes.statuses()
    failed = {s: n for s, n in statuses.items() if not 200 <= s < 300}
    how = Counter(  # how the votes failed: status and error code, or the exception's name
        f"{status} {code}".strip()
        for voter in votes.voters
        for _option, status, code in voter.answers
        if not 200 <= status < 300
    )
    print(
        f"\nvotes: {sum(statuses.values())} requests, {dict(statuses)} (failures: {dict(how)}); "
        f"sign-ups: {dict(Counter(s for _, s in signup_answers))}; kill after {killed_at} votes"
    )
    # Only the requests in flight on app1 when it died may fail (one per storm thread at most,
    # plus sign-ups in flight); HAProxy re-sends the rest (retry-on conn-failure).
    assert sum(failed.values()) <= VOTERS + 4, (failed, storm.first_error_body)
    assert sum(statuses.values()) > 50

    # Votes: ambiguous are the requests that got no answer (in flight on the dead node).
    assert_tallies_exact(votes, ambiguous_statuses=frozenset({0, 502, 503, 504}))
    # Sign-ups: seats never exceed capacity; the counter equals the seats held; every member
    # answered 2xx holds exactly one registration.
    event = Event.objects.get(pk=event.pk)
    regs = Registration.objects.filter(event=event)
    held = sum(r.seats for r in regs)
    assert event.seats_taken == held <= CAPACITY
    by_user = Counter(regs.values_list("user_id", flat=True))
    assert all(n == 1 for n in by_user.values())
    ok = {members[i].user_id for i, s in signup_answers if 200 <= s < 300}
    assert ok <= set(by_user)
    assert len(signup_answers) == SIGNUPS
