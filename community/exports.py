"""Exports, one machinery for every kind: survey responses, event attendees, ...

An export is a row (a concrete subclass of :class:`ExportBase`) and a Celery task that writes
its file with bounded memory: the kind gives a header and an iterator of rows (read with a
server-side cursor), :func:`write_table` streams them to ``csv.writer`` or openpyxl's
``write_only`` workbook on disk, saving progress every ``PROGRESS_EVERY`` rows, and stores the
file under a random name in the private export storage (``community.storage``: never served
by URL; only an admin view that checks who asks streams it).

Leases and attempts. :func:`export_run` claims a pending export (or a running one silent past
``EXPORT_LEASE_MINUTES``) under a row lock and works for that attempt: every progress write
and the final one are conditional on it, so a run that lost its lease to a newer attempt stops
at its next progress write and never marks the export done (:class:`ExportSuperseded`).
:func:`exports_sweep` (the ``exports-sweep`` job) re-queues silent exports of every kind,
fails them after ``EXPORT_MAX_ATTEMPTS`` and deletes files past ``EXPORT_RETENTION_DAYS``.

Finished once. A worker killed mid-export (SIGKILL) leaves the export ``running``; past the
lease it runs again as a new attempt and finishes. Whatever the kills, an export ends with one
file and one "ready" message: each attempt writes to its own name (an HMAC of the export and
the attempt number: unguessable, yet known to later attempts), the attempt that finishes
deletes the files earlier attempts may have left in storage (killed between storing the file
and marking the export done), and the ``done`` mark and the requester's ``export_ready``
message (the outbox, dedupe key per export) commit together.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import tempfile
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from importlib import import_module
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.files import File
from django.db import models, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from community.locking import lock_rows

PROGRESS_EVERY = 2000


class ExportFormat(models.TextChoices):
    CSV = "csv", "CSV"
    XLSX = "xlsx", "XLSX"


class ExportStatus(models.TextChoices):
    PENDING = "pending", gettext_lazy("Pending")
    RUNNING = "running", gettext_lazy("Running")
    DONE = "done", gettext_lazy("Done")
    FAILED = "failed", gettext_lazy("Failed")
    EXPIRED = "expired", gettext_lazy("Expired")


def export_storage():
    """The private storage of export files (the ``exports`` alias: no URL, outside MEDIA)."""
    from django.core.files.storage import storages

    return storages["exports"]


class ExportBase(models.Model):
    """The state of one export file, whatever it exports (see the module docstring).

    A concrete kind adds its subject (a survey, an event), its ``file`` field (its own
    ``upload_to``) and ``task_name``: the dotted name of the Celery task that runs it (the sweep
    queues it again by that name)."""

    task_name: str = ""

    community = models.ForeignKey("community.Community", on_delete=models.CASCADE, related_name="+")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=gettext_lazy("requested by"),
    )
    format = models.CharField(gettext_lazy("format"), max_length=8, choices=ExportFormat.choices)
    status = models.CharField(
        gettext_lazy("status"),
        max_length=16,
        choices=ExportStatus.choices,
        default=ExportStatus.PENDING,
    )
    rows_done = models.PositiveIntegerField(gettext_lazy("rows done"), default=0)
    rows_total = models.PositiveIntegerField(gettext_lazy("rows in total"), default=0)
    error = models.TextField(gettext_lazy("error"), blank=True, default="")
    attempts = models.PositiveSmallIntegerField(gettext_lazy("attempts"), default=1)
    heartbeat_at = models.DateTimeField(gettext_lazy("last sign of life"), default=timezone.now)
    created_at = models.DateTimeField(gettext_lazy("created at"), default=timezone.now)
    finished_at = models.DateTimeField(gettext_lazy("finished at"), null=True, blank=True)

    class Meta:
        abstract = True

    @property
    def progress_percent(self) -> int:
        if not self.rows_total:
            return 100 if self.status == ExportStatus.DONE else 0
        return min(100, round(100 * self.rows_done / self.rows_total))


class ExportSuperseded(Exception):
    """The sweep queued the export again while this run was writing it: stop, keep nothing."""


def queue_export(export: ExportBase | type[ExportBase], export_id: str) -> None:
    """Queue the export's task once the transaction commits. ``robust``: a broker outage after
    COMMIT must not turn a request that succeeded into an error (or skip the other after-commit
    work); the export stays pending and the sweep queues it again."""
    model = type(export) if isinstance(export, ExportBase) else export
    module, _dot, name = model.task_name.rpartition(".")
    task = getattr(import_module(module), name)
    transaction.on_commit(lambda: task.delay(export_id), robust=True)


def _mine(export: ExportBase):
    """The export's row, as long as it is still this run's attempt."""
    return type(export).objects.filter(
        pk=export.pk, attempts=export.attempts, status=ExportStatus.RUNNING
    )


def _progress(export: ExportBase, done: int) -> None:
    """Save progress; it is also the run's heartbeat, which keeps the sweep away."""
    if not _mine(export).update(rows_done=done, heartbeat_at=timezone.now()):
        raise ExportSuperseded(export.pk)


#: The kind of the outbox message telling the requester an export is ready.
NOTIFY_EXPORT_READY = "export_ready"


def file_name(export: ExportBase, attempt: int | None = None) -> str:
    """The file name of one attempt of ``export`` (its current one by default): unguessable
    without the secret key (an HMAC of the export and the attempt), so a later attempt can
    find and delete what an earlier, killed one stored. The subject and time are in the row."""
    attempt = export.attempts if attempt is None else attempt
    message = f"{export._meta.label_lower}:{export.pk}:{attempt}".encode()
    digest = hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).hexdigest()
    return f"{digest[:32]}.{export.format}"


def stored_name(export: ExportBase, attempt: int | None = None) -> str:
    """Where the storage keeps the file of that attempt (the kind's ``upload_to`` applied)."""
    return export.file.field.generate_filename(export, file_name(export, attempt))


def _notify_ready(export: ExportBase) -> None:
    """Queue the requester's "your export is ready" message (inside the transaction that marks
    the export done: both or neither). Once per export whatever the attempts (dedupe key)."""
    if not export.requested_by_id:
        return
    from community.services.notifications import notification_enqueue_many

    key = f"{export._meta.label_lower}:{export.pk}"
    notification_enqueue_many(
        community_id=export.community_id,
        recipient_ids=[export.requested_by_id],
        kind=NOTIFY_EXPORT_READY,
        object_key=key[:80],
        data={"thing1": str(export._meta.verbose_name)[:20], "number2": str(export.rows_done)},
    )


def safe_text(value: str) -> str:
    """Quote text a spreadsheet would run as a formula (CSV/formula injection)."""
    if value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def write_table(
    export: ExportBase,
    *,
    header: list[str],
    rows: Iterable[list[Any]],
    total: int,
    sheet_title: str,
) -> None:
    """Write ``header`` and ``rows`` into the export's file (its ``format``) and mark it done,
    for the attempt ``export`` holds. ``total`` is the expected number of rows (progress)."""
    _mine(export).update(rows_total=total)
    done = 0
    with tempfile.TemporaryFile() as tmp:
        if export.format == ExportFormat.CSV:
            text = io.TextIOWrapper(tmp, encoding="utf-8-sig", newline="")
            writer = csv.writer(text)
            writer.writerow(header)
            for row in rows:
                writer.writerow(row)
                done += 1
                if done % PROGRESS_EVERY == 0:
                    _progress(export, done)
            text.flush()
            text.detach()
        else:
            from openpyxl import Workbook

            workbook = Workbook(write_only=True)
            sheet = workbook.create_sheet(title=sheet_title[:31])
            sheet.append(header)
            for row in rows:
                sheet.append(row)
                done += 1
                if done % PROGRESS_EVERY == 0:
                    _progress(export, done)
            workbook.save(tmp)
        tmp.seek(0)
        storage = export.file.storage
        storage.delete(stored_name(export))  # this attempt's name: never renamed aside
        export.file.save(file_name(export), File(tmp), save=False)
    with transaction.atomic():
        finished = _mine(export).update(
            file=export.file.name,
            rows_done=done,
            rows_total=max(total, done),
            status=ExportStatus.DONE,
            finished_at=timezone.now(),
            heartbeat_at=timezone.now(),
        )
        if finished:
            export.rows_done = done
            _notify_ready(export)
    if not finished:  # superseded while writing the file: the newer attempt's file counts
        export.file.delete(save=False)
        raise ExportSuperseded(export.pk)
    for attempt in range(1, export.attempts):  # files of earlier attempts killed after storing
        storage.delete(stored_name(export, attempt))


def _lease() -> timedelta:
    return timedelta(minutes=settings.EXPORT_LEASE_MINUTES)


def export_run(
    model: type[ExportBase], *, export_id: str, write: Callable[[ExportBase], None]
) -> str:
    """Claim the export and write its file with ``write`` (which ends in :func:`write_table`).

    Safe to run twice: the worker claims a pending export (or a running one whose worker fell
    silent past the lease, as a new attempt) under a row lock, so two deliveries of one message
    do not write at once, and a finished export is left alone. A storage error (``OSError``) puts the export
    back to pending for the task's retry; any other error fails it."""
    now = timezone.now()
    with transaction.atomic():
        export = lock_rows(
            model.objects.filter(pk=export_id).filter(
                Q(status=ExportStatus.PENDING)
                | Q(status=ExportStatus.RUNNING, heartbeat_at__lt=now - _lease())
            )
        ).first()
        if export is None:
            return "skipped"
        if export.status == ExportStatus.RUNNING:  # its worker died: take over as a new attempt
            export.attempts += 1
        export.status = ExportStatus.RUNNING
        export.rows_done = 0
        export.heartbeat_at = now
        export.save(update_fields=["status", "rows_done", "heartbeat_at", "attempts"])
    mine = model.objects.filter(pk=export_id, attempts=export.attempts)
    try:
        write(export)
    except ExportSuperseded:
        return "superseded"
    except OSError:
        mine.filter(status=ExportStatus.RUNNING).update(
            status=ExportStatus.PENDING, heartbeat_at=timezone.now()
        )
        raise
    except Exception as exc:
        mine.update(status=ExportStatus.FAILED, error=str(exc)[:2000], finished_at=timezone.now())
        raise
    return "done"


def export_kinds() -> list[type[ExportBase]]:
    """Every concrete export model of the installed apps."""
    return [m for m in apps.get_models() if issubclass(m, ExportBase)]


def exports_sweep(*, now: datetime | None = None, limit: int = 200) -> dict[str, int]:
    """The periodic clean-up of exports of every kind (beat, every few minutes):

    * an export pending or running but silent past ``EXPORT_LEASE_MINUTES`` lost its task
      (broker outage, worker killed): it is queued again, as a new attempt, until it was
      queued ``EXPORT_MAX_ATTEMPTS`` times; then it fails with a message saying so;
    * a finished export older than ``EXPORT_RETENTION_DAYS`` has its file deleted and
      becomes ``expired`` (member data is not kept longer than needed).

    Rows are claimed with ``SKIP LOCKED``, so sweeps running at once never queue one export
    twice, and a worker claiming an export at that moment is not waited for."""
    now = now or timezone.now()
    totals = {"requeued": 0, "failed": 0, "expired": 0}
    for model in export_kinds():
        for key, value in _sweep(model, now=now, limit=limit).items():
            totals[key] += value
    return totals


def _sweep(model: type[ExportBase], *, now: datetime, limit: int) -> dict[str, int]:
    stale = model.objects.filter(
        status__in=[ExportStatus.PENDING, ExportStatus.RUNNING],
        heartbeat_at__lt=now - _lease(),
    )
    with transaction.atomic():
        given_up = list(
            lock_rows(
                stale.filter(attempts__gte=settings.EXPORT_MAX_ATTEMPTS), skip_locked=True
            ).values_list("pk", flat=True)[:limit]
        )
        failed = model.objects.filter(pk__in=given_up).update(
            status=ExportStatus.FAILED,
            error=_("The export did not finish after %(count)d attempts.")
            % {"count": settings.EXPORT_MAX_ATTEMPTS},
            finished_at=now,
        )
        retry = list(
            lock_rows(
                stale.filter(attempts__lt=settings.EXPORT_MAX_ATTEMPTS), skip_locked=True
            ).values_list("pk", flat=True)[:limit]
        )
        requeued = model.objects.filter(pk__in=retry).update(
            status=ExportStatus.PENDING, attempts=F("attempts") + 1, heartbeat_at=now, rows_done=0
        )
        for export_id in retry:
            queue_export(model, export_id)
    expired = 0
    cutoff = now - timedelta(days=settings.EXPORT_RETENTION_DAYS)
    old = model.objects.filter(status=ExportStatus.DONE, finished_at__lt=cutoff)
    for export_id, name in old.values_list("pk", "file")[:limit]:
        # Mark first, then delete: a download already streaming keeps its open file, and no
        # download starts on a file that is gone.
        if model.objects.filter(pk=export_id, status=ExportStatus.DONE).update(
            status=ExportStatus.EXPIRED, file=""
        ):
            expired += 1
            if name:
                export_storage().delete(name)
    return {"requeued": requeued, "failed": failed, "expired": expired}
