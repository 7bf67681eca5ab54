"""Exports of a survey's submitted responses: requesting one, the task body, the periodic
clean-up and the download.

Export files hold members' answers: they live in a private storage (``STORAGES["exports"]``,
never served by URL), have random names, are streamed only to the moderator tiers of the
survey's community, and are deleted after ``EXPORT_RETENTION_DAYS``."""

from __future__ import annotations

from datetime import datetime

from django.core.files import File
from django.utils.translation import gettext as _

from community.authz import Action, ensure
from community.errors import DomainError, NotFound
from community.exports import export_run as run_export
from community.exports import exports_sweep as sweep_exports
from community.exports import queue_export
from community.models import Membership
from community.timezones import localize
from surveys.models import Export, ExportFormat, ExportStatus, Survey


def _queue_export(export_id: str) -> None:
    queue_export(Export, export_id)


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


def export_run(*, export_id: str) -> str:
    """Write the export file (``community.exports.export_run``: claimed under a row lock, safe
    to run twice, superseded when the sweep queued a newer attempt)."""
    from surveys.exports import write_export

    def write(export: Export) -> None:
        export.survey = Survey.objects.select_related("community").get(pk=export.survey_id)
        write_export(export)

    return run_export(Export, export_id=export_id, write=write)


def exports_sweep(*, now: datetime | None = None, limit: int = 200) -> dict[str, int]:
    """The periodic clean-up of exports of every kind, survey exports and the others
    (``community.exports.exports_sweep``): re-queue silent ones, fail them after the last
    attempt, delete files past the retention period."""
    return sweep_exports(now=now, limit=limit)


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
