"""Exports of a survey's submitted responses: requesting one, and the task body."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from community.authz import Action, ensure
from community.errors import DomainError, NotFound
from community.models import Membership
from surveys.models import (
    Export,
    ExportFormat,
    ExportStatus,
    Survey,
)


# --- exports --------------------------------------------------------------------------------
def export_request(*, actor: Membership, survey_id: str, format: str) -> Export:
    """Create an export of the survey's submitted responses and queue the task after
    commit (the task loads the row by id). Moderators only: the file holds every answer,
    and who gave it unless the survey is anonymous."""
    from surveys.tasks import run_export

    if format not in ExportFormat.values:
        raise DomainError(_("Unknown export format."), code="invalid_format", field="format")
    ensure(actor, Action.VIEW)
    survey = Survey.objects.filter(pk=survey_id, community_id=actor.community_id).first()
    if survey is None:
        raise NotFound(_("Survey not found."))
    ensure(actor, Action.MODERATE)
    export = Export.objects.create(
        community_id=survey.community_id,
        survey=survey,
        requested_by=actor.user if actor.user.pk else None,
        format=format,
    )
    transaction.on_commit(lambda: run_export.delay(export.pk))
    return export


def export_run(*, export_id: str) -> str:
    """Write the export file (idempotent: a finished export is left alone). Streams the
    responses with a server-side cursor and writes row by row; see ``surveys.exports``."""
    from surveys.exports import write_export

    claimed = Export.objects.filter(
        pk=export_id, status__in=[ExportStatus.PENDING, ExportStatus.RUNNING]
    ).update(status=ExportStatus.RUNNING, rows_done=0)
    if not claimed:
        return "skipped"
    export = Export.objects.select_related("survey").get(pk=export_id)
    try:
        write_export(export)
    except Exception as exc:
        Export.objects.filter(pk=export_id).update(
            status=ExportStatus.FAILED, error=str(exc)[:2000], finished_at=timezone.now()
        )
        raise
    return "done"
