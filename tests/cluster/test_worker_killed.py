"""A Celery worker node killed with SIGKILL while it sends notifications (WeChat holds them)
and an export waits in its prefetch: RabbitMQ hands its unacknowledged tasks to the other
worker at once. WeChat receives every notification once and none twice (the dead worker's
claims stay ``sending``: claim, commit, call, record); the export is finished once (a later
sweep, even past its lease, leaves it alone). Not covered here: 5 minutes later the sweep
takes over an expired claim and sends it again (README, "Beyond one machine")."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from community.models import Notification, Tier
from community.services.notifications import notification_enqueue
from events import services as event_services
from events.models import AttendeeExport
from events.services.exports import attendee_export_request
from surveys.tasks import exports_sweep
from tests.cluster.conftest import WECHAT_PORT, script, wait_until
from tests.factories import CommunityFactory, MembershipFactory

SEND = "/cgi-bin/message/subscribe/send"
NOTIFICATIONS = 30
HOLD_FROM = 6  # from this message on WeChat holds every send until the worker is killed
HELD = 4  # both workers' processes (2 x concurrency 2) hold a message


def wechat(handler) -> HTTPServer:
    server = HTTPServer(host="127.0.0.1", port=WECHAT_PORT, threaded=True)
    server.expect_request("/cgi-bin/stable_token", method="POST").respond_with_json(
        {"access_token": "cluster-token", "expires_in": 7200}
    )
    server.expect_request(SEND, method="POST").respond_with_handler(handler)
    server.start()
    return server


def test_worker_killed_notifications_exactly_once_and_export_finished_once(cluster_db, settings):
    settings.WECHAT_CONTENT_CHECK = False
    received: list[str] = []
    lock = threading.Lock()
    release = threading.Event()

    def slow_wechat(request: Request) -> Response:
        with lock:
            received.append(json.loads(request.get_data())["touser"])
            n = len(received)
        if n >= HOLD_FROM:
            release.wait(60)  # WeChat has the message; the answer waits for the kill
        return Response(json.dumps({"errcode": 0, "errmsg": "ok"}), content_type="text/plain")

    server = wechat(slow_wechat)
    try:
        community = CommunityFactory()
        owner = MembershipFactory(community=community, tier=Tier.OWNER)
        event = event_services.event_create(
            actor=owner, title="export", starts_at=timezone.now() + timedelta(days=2), capacity=50
        )
        members = [MembershipFactory(community=community) for _ in range(NOTIFICATIONS)]
        for membership in members[:20]:
            event_services.registration_put(actor=membership, event_id=event.pk)
        with transaction.atomic():  # queued on commit, through RabbitMQ, to the workers
            for membership in members:
                notification_enqueue(
                    community=community,
                    recipient=membership.user,
                    kind="test",
                    object_key=f"poll:cluster-{event.pk}",
                    data={"thing1": "集群测试"},
                )
        expected = Counter(m.user.openid for m in members)
        wait_until(lambda: len(received) >= HOLD_FROM + HELD - 1, timeout=90, what="held sends")
        export = attendee_export_request(actor=owner, event=event, format="csv")
        connection.close()
        script("node-kill", "worker1", "KILL")
        killed_at = timezone.now()
        release.set()
        script("node-start", "worker1")
        ours = Notification.objects.filter(object_key=f"poll:cluster-{event.pk}")

        def settled() -> bool:
            open_rows = ours.filter(
                Q(status="pending") | Q(status="sending", claimed_at__gte=killed_at)
            )
            return not open_rows.exists()

        wait_until(settled, timeout=120, what="every notification sent or held by the dead worker")
        wait_until(
            lambda: AttendeeExport.objects.get(pk=export.pk).status == "done",
            timeout=120,
            what="the export done",
        )
        # A sweep past the lease (as beat would run it 16 minutes later) leaves it alone.
        later = (timezone.now() + timedelta(minutes=16)).isoformat()
        exports_sweep.delay(now=later)
        time.sleep(5)
        done = AttendeeExport.objects.get(pk=export.pk)
        counts = Counter(openid for openid in received if openid in expected)
        dead_claims = set(ours.filter(status="sending").values_list("recipient__openid", flat=True))
        print(
            f"\nnotifications: {sum(counts.values())} sends for {len(expected)} members, "
            f"{len(dead_claims)} held by WeChat when the worker died (left claimed); "
            f"export attempts {done.attempts}, status {done.status}"
        )
        assert all(n == 1 for n in counts.values()), counts  # never twice
        # Every member got it; those WeChat holds when the worker died stay claimed (sending):
        # their outcome was never recorded.
        assert set(expected) - set(counts) <= dead_claims
        assert len(dead_claims) <= 2  # at most what worker1 was running
        assert done.status == "done" and done.rows_done == done.rows_total
        assert Path(done.file.path).exists()
        assert done.attempts == export.attempts  # never queued again
    finally:
        release.set()
        server.stop()
