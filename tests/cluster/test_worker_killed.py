"""A Celery worker node killed with SIGKILL in the middle of sending notifications and writing
an export, then the sweeps run past their leases (as beat would 5 and 15 minutes later).

The outbox promises *at most one message per dedupe key* (``subscribeMessage.send`` has no
idempotency key, so exactly once on the wire cannot be had): the message WeChat holds when the
worker dies (it may or may not reach the member) is recorded ``unknown`` by the sweep and never
sent again; every other message is sent once. Exports finish once: the one killed mid-write
runs again as a new attempt, the one waiting in the queue is run by the other node; one file
and one "ready" message each.

Deterministic: only ``worker1`` runs (``worker2`` is stopped first); the fake WeChat answers
slowly and holds one send until after the kill; the export is held mid-write by an ACCESS
EXCLUSIVE lock on the check-ins table (taken on the primary, replayed on the standby the export
reads its rows from), so the worker is killed with its claim committed and no file marked done.
"""

from __future__ import annotations

import json
import os
import secrets
import threading
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import psycopg
from django.db import connection, transaction
from django.utils import timezone
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from community.exports import exports_sweep
from community.models import Notification, Tier
from community.services.notifications import notification_enqueue
from community.tasks import notifications_sweep
from events import services as event_services
from events.models import AttendeeExport, CheckIn, Registration
from events.services.exports import attendee_export_request
from tests.cluster.conftest import WECHAT_PORT, script, wait_until
from tests.factories import CommunityFactory, MembershipFactory

SEND = "/cgi-bin/message/subscribe/send"
NOTIFICATIONS = 30
HOLD = 5  # WeChat holds the 5th send (received, never answered) until the worker is dead
READY_TEMPLATE = "tmpl-export"  # scripts/cluster configures export_ready with it


def wechat(handler) -> HTTPServer:
    server = HTTPServer(host="127.0.0.1", port=WECHAT_PORT, threaded=True)
    server.expect_request("/cgi-bin/stable_token", method="POST").respond_with_json(
        {"access_token": "cluster-token", "expires_in": 7200}
    )
    server.expect_request(SEND, method="POST").respond_with_handler(handler)
    server.start()
    return server


def standby_waits_on(table: str) -> bool:
    """A query on the standby waits for ``table``'s lock: the export is stuck mid-write."""
    dsn = script("env").split("DATABASE_REPLICA_URL=")[1].split()[0]
    with psycopg.connect(dsn, connect_timeout=2) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
            "AND query ILIKE %s",
            [f"%{table}%"],
        ).fetchone()
    return row[0] > 0


def test_worker_killed_mid_send_and_mid_export(cluster_db, settings):
    settings.WECHAT_CONTENT_CHECK = False
    keys = [f"cluster-{secrets.token_hex(4)}-{i}" for i in range(NOTIFICATIONS)]
    received: list[tuple[str, str, str]] = []  # (template, touser, dedupe key)
    lock = threading.Lock()
    held = threading.Event()
    release = threading.Event()

    def slow_wechat(request: Request) -> Response:
        body = json.loads(request.get_data())
        with lock:
            key = body["data"].get("thing1", {}).get("value", "")
            received.append((body["template_id"], body["touser"], key))
            n = len([r for r in received if r[2] in keys])
        if n == HOLD and key in keys:
            held.set()
            release.wait(120)  # WeChat has the message; its answer reaches no one
        else:
            time.sleep(0.2)  # a slow WeChat
        return Response(json.dumps({"errcode": 0, "errmsg": "ok"}), content_type="text/plain")

    server = wechat(slow_wechat)
    primary = os.environ["DATABASE_URL"]
    export_dir = Path(os.environ["EXPORT_ROOT"]) / "event-exports"
    blocker = None
    try:
        script("node-kill", "worker2")  # everything goes to worker1
        community = CommunityFactory()
        owner = MembershipFactory(community=community, tier=Tier.OWNER)
        admin = MembershipFactory(community=community, tier=Tier.ADMIN)
        event = event_services.event_create(
            actor=owner, title="export", starts_at=timezone.now() + timedelta(days=2), capacity=50
        )
        members = [MembershipFactory(community=community) for _ in range(NOTIFICATIONS)]
        for membership in members[:20]:
            event_services.registration_put(actor=membership, event_id=event.pk)
        files_before = set(export_dir.glob("*")) if export_dir.exists() else set()

        # Export 1 is claimed by worker1 and stuck reading the check-ins (a table no periodic
        # job reads: beat's events-sweep reads the registrations and would be held too).
        blocker = psycopg.connect(primary, autocommit=False)
        blocker.execute(f"LOCK TABLE {CheckIn._meta.db_table} IN ACCESS EXCLUSIVE MODE")
        killed_export = attendee_export_request(actor=owner, event=event, format="csv")
        wait_until(
            lambda: (
                AttendeeExport.objects.get(pk=killed_export.pk).status == "running"
                and standby_waits_on(CheckIn._meta.db_table)
            ),
            timeout=90,
            what="export 1 running and waiting for the check-ins",
        )
        # worker1's other process sends the notifications; WeChat holds the 5th.
        with transaction.atomic():  # queued on commit, through RabbitMQ
            for membership, key in zip(members, keys, strict=True):
                notification_enqueue(
                    community=community,
                    recipient=membership.user,
                    kind="test",
                    object_key=f"poll:{key}",
                    data={"thing1": key},
                    dedupe_key=key,
                )
        assert held.wait(90), "WeChat never got the 5th send"
        queued_export = attendee_export_request(actor=admin, event=event, format="xlsx")
        connection.close()

        script("node-kill", "worker1", "KILL")
        release.set()
        blocker.rollback()
        blocker.close()
        blocker = None
        script("node-start", "worker2")
        script("node-start", "worker1")
        ours = Notification.objects.filter(community=community, kind="test")

        def quiet() -> bool:  # what can be sent now was sent; the dead claim stays sending
            return not ours.filter(status="pending").exists() and (
                AttendeeExport.objects.get(pk=queued_export.pk).status == "done"
            )

        wait_until(quiet, timeout=180, what="the other node sending the rest and export 2")
        # Nothing in flight but the held one (export 2's ready message is sent too): a sweep
        # "16 minutes later" must not catch a live send (that one would record its outcome
        # over the unknown, as test_notifications_unknown.py shows, but the count would be off).
        outbox = Notification.objects.filter(community=community)
        wait_until(
            lambda: (
                list(
                    outbox.filter(status__in=["pending", "sending"]).values_list(
                        "status", flat=True
                    )
                )
                == ["sending"]
            ),
            timeout=60,
            what="every other message sent",
        )
        assert AttendeeExport.objects.get(pk=killed_export.pk).status == "running"

        # Beat's sweeps, past both leases (notifications 5 min, exports 15 min).
        later = timezone.now() + timedelta(minutes=16)
        swept = notifications_sweep(now=later.isoformat())
        requeued = exports_sweep(now=later)
        wait_until(
            lambda: AttendeeExport.objects.get(pk=killed_export.pk).status == "done",
            timeout=120,
            what="export 1 run again and done",
        )
        wait_until(
            lambda: (
                len([r for r in received if r[0] == READY_TEMPLATE]) >= 2
                and not outbox.filter(status__in=["pending", "sending"]).exists()
            ),
            timeout=60,
            what="two export-ready messages sent",
        )
        # A second round later (two beats, or the next run): nothing more happens.
        much_later = later + timedelta(minutes=16)
        again = (notifications_sweep(now=much_later.isoformat()), exports_sweep(now=much_later))
        time.sleep(5)  # anything sent twice would arrive meanwhile

        sends = Counter(  # this run's keys (a kept database may send an earlier run's leftovers)
            key for template, _user, key in received if template != READY_TEMPLATE and key in keys
        )
        requesters = {owner.user.openid, admin.user.openid}
        ready = Counter(
            user for template, user, _key in received if template == READY_TEMPLATE
        )  # to this test's requesters (a kept database may finish an earlier run's export too)
        ready = Counter({user: n for user, n in ready.items() if user in requesters})
        status = dict(ours.values_list("dedupe_key", "status"))
        ready_rows = outbox.filter(kind="export_ready").values_list("status", flat=True)
        unknown = {key for key, s in status.items() if s == "unknown"}
        exports = {e.pk: e for e in AttendeeExport.objects.filter(event=event)}
        new_files = set(export_dir.glob("*")) - files_before
        print(
            f"\nnotifications: {NOTIFICATIONS} queued, {sum(sends.values())} sends received by "
            f"WeChat, max {max(sends.values())} per dedupe key; statuses "
            f"{dict(Counter(status.values()))}; sweep {swept}; "
            f"exports: killed one done after {exports[killed_export.pk].attempts} attempts, "
            f"queued one after {exports[queued_export.pk].attempts}; sweep {requeued}; "
            f"files {len(new_files)}; ready messages {dict(Counter(ready.values()))}"
        )
        # At most one per dedupe key, counted where the messages arrive.
        assert max(sends.values()) == 1, sends
        # None left pending or sending; every message is accounted for.
        assert set(status.values()) <= {"sent", "unknown"}, status
        assert swept["unknown"] >= 1  # more only when an earlier run in this database left one
        assert len(unknown) == 1 and unknown <= set(sends)  # the held one: WeChat got it
        assert {k for k, s in status.items() if s == "sent"} == set(sends) - unknown
        assert again[0]["unknown"] == 0
        assert dict(outbox.filter(kind="test").values_list("dedupe_key", "status")) == status
        # Each export finished once: one file each, one ready message to each requester.
        assert requeued["requeued"] >= 1
        registrations = Registration.objects.filter(event=event).count()
        for export in exports.values():
            assert export.status == "done"
            assert export.rows_done == export.rows_total == registrations
            assert Path(export.file.path).exists()
        assert exports[killed_export.pk].attempts == 2
        assert exports[queued_export.pk].attempts == 1
        others = AttendeeExport.objects.exclude(event=event).exclude(file="")  # earlier runs'
        ours_files = {Path(e.file.path) for e in exports.values()}
        assert new_files - {Path(e.file.path) for e in others} == ours_files
        assert ready == {owner.user.openid: 1, admin.user.openid: 1}
        assert sorted(ready_rows) == ["sent", "sent"]
    finally:
        release.set()
        if blocker is not None:
            blocker.close()
        server.stop()
        status_text = script("status")
        for node in ("worker1", "worker2"):
            line = next(ln for ln in status_text.splitlines() if f"celery {node}" in ln)
            if line.rstrip().endswith("down"):
                script("node-start", node)
