"""An export finishes once whatever the kills: one file in storage and one "ready" message for
the requester, even when a killed attempt had already stored its file (the real SIGKILL of a
worker is in tests/cluster/test_worker_killed.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone

from community.exports import NOTIFY_EXPORT_READY, stored_name
from community.models import Notification
from surveys import services
from surveys.models import Export, ExportStatus, export_storage
from tests.surveys.test_exports import _export, moderator, roots, survey  # noqa: F401

pytestmark = pytest.mark.django_db


def _files(root) -> list[str]:
    return sorted(p.name for p in (root / "private").rglob("*") if p.is_file())


def test_a_rerun_after_a_kill_leaves_one_file_and_one_ready_message(
    roots,  # noqa: F811
    survey,  # noqa: F811
    moderator,  # noqa: F811
    settings,
    django_capture_on_commit_callbacks,
):
    settings.WECHAT_TEMPLATES = {NOTIFY_EXPORT_READY: {"id": "tmpl-ready", "long_term": True}}
    settings.WECHAT_API_BASE = "http://127.0.0.1:9/"  # the message's send is not the point here
    export = _export(survey, moderator, django_capture_on_commit_callbacks)
    assert export.status == ExportStatus.DONE and export.attempts == 1
    ready = Notification.objects.filter(kind=NOTIFY_EXPORT_READY, recipient=moderator.user)
    assert ready.count() == 1
    assert ready.get().object_key == f"surveys.export:{export.pk}"

    # A second export is killed after storing its file, before marking itself done: the row
    # stays running, attempt 1's file sits in storage (as SIGKILL leaves it).
    with django_capture_on_commit_callbacks(execute=False):
        killed = services.export_request(actor=moderator, survey_id=survey.pk, format="csv")
    Export.objects.filter(pk=killed.pk).update(
        status=ExportStatus.RUNNING,
        heartbeat_at=timezone.now() - timedelta(minutes=settings.EXPORT_LEASE_MINUTES + 1),
    )
    killed.refresh_from_db()
    export_storage().save(stored_name(killed, 1), ContentFile(b"half a file"))
    before = _files(roots)
    assert len(before) == 2

    # The redelivered task (past the lease) takes over as attempt 2 and finishes.
    with django_capture_on_commit_callbacks(execute=True):
        assert services.export_run(export_id=killed.pk) == "done"
    killed.refresh_from_db()
    assert (killed.status, killed.attempts) == (ExportStatus.DONE, 2)
    assert killed.file.name == stored_name(killed, 2)
    after = _files(roots)
    assert len(after) == 2  # the first export's file and this one's: attempt 1's is gone
    assert killed.file.name.rsplit("/", 1)[1] in after
    assert ready.count() == 2  # one per export
    assert ready.filter(object_key=f"surveys.export:{killed.pk}").count() == 1

    # Another delivery, or the sweep past the lease, leaves the finished export alone.
    assert services.export_run(export_id=killed.pk) == "skipped"
    later = timezone.now() + timedelta(minutes=settings.EXPORT_LEASE_MINUTES * 2)
    assert services.exports_sweep(now=later)["requeued"] == 0
    assert _files(roots) == after and ready.count() == 2
