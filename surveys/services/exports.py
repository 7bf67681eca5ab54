"""Exports of a survey's submitted responses: requesting one, the task body, the periodic
clean-up and the download.

Export files hold members' answers: they live in a private storage (``STORAGES["exports"]``,
never served by URL), have random names, are streamed only to the moderator tiers of the
survey's community, and are deleted after ``EXPORT_RETENTION_DAYS``."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from community.authz import Action, ensure
from community.errors import DomainError, NotFound
from community.locking import lock_rows
from community.models import Membership
from community.timezones import localize
from surveys.models import Export, ExportFormat, ExportStatus, Survey, export_storage


def _queue_export(export_id: str) -> None:
    """Queue the export's task once the transaction commits. ``robust``: a broker outage
    after COMMIT must not turn a request that succeeded into an error (or skip the other
    after-commit work); the export stays pending and ``exports_sweep`` queues it again."""
    from surveys.tasks import run_export

    transaction.on_commit(lambda: run_export.delay(export_id), robust=True)


def export_request(*, actor: Membership, survey_id: str, format: str) -> Export:
    """Create an export of the survey's submitted responses and queue the task after
    commit (the task loads the row by id). Moderators only: the file holds every answer,
    and who gave it unless the survey is anonymous."""
    if format not in ExportFormat.values:
        raise DomainError(_("Unknown export format."), code="invalid_format", field="format")
    ensure(actor, Action.VIEW)
    survey = Survey.objects.filter(pk=survey_id, community_id=actor.community_id).first()
    if survey is None:
        raise NotFound(_("Survey not found."))
    ensure(actor, Action.MANAGE_SURVEYS)
    export = Export.objects.create(
        community_id=survey.community_id,
        survey=survey,
        requested_by=actor.user if actor.user.pk else None,
        format=format,
    )
    _queue_export(export.pk)
    return export


def _export_lease() -> timedelta:
    return timedelta(minutes=settings.EXPORT_LEASE_MINUTES)


def export_run(*, export_id: str) -> str:
    """Write the export file. Streams the responses with a server-side cursor and writes row
    by row (see ``surveys.exports``).

    Safe to run twice: the worker claims a pending export (or a running one whose worker
    fell silent past the lease) under a row lock, so two deliveries of one message do not
    write at once, and a finished export is left alone. It then works for the attempt it
    claimed: if the sweep has queued the export again meanwhile, this run's file is thrown
    away ("superseded"). A storage error (``OSError``) puts the export back to pending for
    the task's retry; any other error fails it."""
    from surveys.exports import ExportSuperseded, write_export

    now = timezone.now()
    with transaction.atomic():
        export = lock_rows(
            Export.objects.filter(pk=export_id).filter(
                Q(status=ExportStatus.PENDING)
                | Q(status=ExportStatus.RUNNING, heartbeat_at__lt=now - _export_lease())
            )
        ).first()
        if export is None:
            return "skipped"
        export.status = ExportStatus.RUNNING
        export.rows_done = 0
        export.heartbeat_at = now
        export.save(update_fields=["status", "rows_done", "heartbeat_at"])
    mine = Export.objects.filter(pk=export_id, attempts=export.attempts)
    export.survey = Survey.objects.select_related("community").get(pk=export.survey_id)
    try:
        write_export(export)
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


def exports_sweep(*, now: datetime | None = None, limit: int = 200) -> dict[str, int]:
    """The periodic clean-up of exports (beat, every few minutes):

    * an export pending or running but silent past ``EXPORT_LEASE_MINUTES`` lost its task
      (broker outage, worker killed): it is queued again, as a new attempt, until it was
      queued ``EXPORT_MAX_ATTEMPTS`` times; then it fails with a message saying so;
    * a finished export older than ``EXPORT_RETENTION_DAYS`` has its file deleted and
      becomes ``expired`` (member data is not kept longer than needed).

    Rows are claimed with ``SKIP LOCKED``, so sweeps running at once never queue one export
    twice, and a worker claiming an export at that moment is not waited for."""
    now = now or timezone.now()
    stale = Export.objects.filter(
        status__in=[ExportStatus.PENDING, ExportStatus.RUNNING],
        heartbeat_at__lt=now - _export_lease(),
    )
    with transaction.atomic():
        given_up = list(
            lock_rows(
                stale.filter(attempts__gte=settings.EXPORT_MAX_ATTEMPTS), skip_locked=True
            ).values_list("pk", flat=True)[:limit]
        )
        failed = Export.objects.filter(pk__in=given_up).update(
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
        requeued = Export.objects.filter(pk__in=retry).update(
            status=ExportStatus.PENDING, attempts=F("attempts") + 1, heartbeat_at=now, rows_done=0
        )
        for export_id in retry:
            _queue_export(export_id)
    expired = 0
    cutoff = now - timedelta(days=settings.EXPORT_RETENTION_DAYS)
    old = Export.objects.filter(status=ExportStatus.DONE, finished_at__lt=cutoff)
    for export_id, name in old.values_list("pk", "file")[:limit]:
        # Mark first, then delete: a download already streaming keeps its open file, and no
        # download starts on a file that is gone.
        if Export.objects.filter(pk=export_id, status=ExportStatus.DONE).update(
            status=ExportStatus.EXPIRED, file=""
        ):
            expired += 1
            if name:
                export_storage().delete(name)
    return {"requeued": requeued, "failed": failed, "expired": expired}


def export_file(*, actor: Membership | None, survey_id: str, export_id: str) -> tuple[File, str]:
    """The finished export's file, opened for streaming, and the name to download it as.

    Only moderators and above of the survey's community get it (the same tier that may
    request an export); everyone else gets 404."""
    ensure(actor, Action.MANAGE_SURVEYS)
    export = (
        Export.objects.filter(
            pk=export_id,
            survey_id=survey_id,
            community_id=actor.community_id,
            status=ExportStatus.DONE,
        )
        .select_related("survey__community")
        .first()
    )
    if export is None or not export.file:
        raise NotFound(_("Export not found."))
    created = localize(export.created_at, export.survey.community)
    name = f"{export.survey.title}-{created:%Y%m%d-%H%M}.{export.format}"
    return export.file.open("rb"), name
