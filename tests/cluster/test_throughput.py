"""Throughput through the load balancer with two app nodes against one (the other put in
maintenance through HAProxy's admin socket), in the same run. On 2 shared cores expect little
gain: the point is that both nodes serve and nothing fails."""

from __future__ import annotations

import os
import socket
import threading
import time
from datetime import timedelta
from pathlib import Path

import httpx
from django.db import connection
from django.utils import timezone

from community.models import Tier
from community.services.tokens import token_issue
from polls import services as poll_services
from tests.cluster.conftest import LB, ROOT
from tests.factories import CommunityFactory, MembershipFactory

CLIENTS = 8
SECONDS = 6.0


def haproxy(command: str) -> str:
    path = Path(os.environ.get("CLUSTER_DIR", ROOT / ".cluster")) / "run" / "haproxy.sock"
    with socket.socket(socket.AF_UNIX) as sock:
        sock.connect(str(path))
        sock.sendall(command.encode() + b"\n")
        return sock.makefile().read()


def drive(url: str, tokens: list[str]) -> tuple[int, int]:
    """(2xx answers, other answers) of CLIENTS clients reading ``url`` for SECONDS."""
    ok = [0] * CLIENTS
    bad = [0] * CLIENTS
    how: list[str] = []
    stop = time.monotonic() + SECONDS

    def run(i: int) -> None:
        with httpx.Client(headers={"Authorization": f"Bearer {tokens[i]}"}, timeout=30) as c:
            while time.monotonic() < stop:
                try:
                    status = c.get(url).status_code
                except httpx.HTTPError as exc:  # no answer: counted as a failure
                    status = 0
                    how.append(type(exc).__name__)
                if status == 200:
                    ok[i] += 1
                else:
                    bad[i] += 1
                    if status:
                        how.append(str(status))

    threads = [threading.Thread(target=run, args=(i,)) for i in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if how:
        print(f"\nfailed reads of {url}: {how}")
    return sum(ok), sum(bad)


def test_two_nodes_against_one(cluster_db, settings):
    settings.WECHAT_CONTENT_CHECK = False
    community = CommunityFactory()
    author = MembershipFactory(community=community, tier=Tier.MODERATOR)
    poll = poll_services.poll_create(
        actor=author,
        title="throughput",
        kind="single",
        closes_at=timezone.now() + timedelta(days=1),
        options=[{"label": "A"}, {"label": "B"}],
    )
    tokens = [
        token_issue(user=MembershipFactory(community=community).user).raw for _ in range(CLIENTS)
    ]
    connection.close()
    url = f"{LB}/api/v1/polls/{poll.pk}"

    drive(url, tokens)  # warm both nodes
    two, two_bad = drive(url, tokens)
    haproxy("disable server app/app2")
    try:
        one, one_bad = drive(url, tokens)
    finally:
        haproxy("enable server app/app2")
    ratio = two / one
    print(
        f"\nthroughput ({CLIENTS} clients, {SECONDS:.0f} s each): two nodes {two / SECONDS:.0f} "
        f"req/s, one node {one / SECONDS:.0f} req/s, ratio {ratio:.2f}"
    )
    assert two_bad == one_bad == 0
    assert one > 0 and two > 0
    assert ratio > 0.7  # a second node never makes it much worse
