"""Attendee exports of an event (CSV/XLSX with form answers): requesting one, the task body
and the download, through the export machinery every kind shares (``community.exports``)."""

from __future__ import annotations

from django.core.files import File
from django.utils.translation import gettext as _

from community.authz import Action, ensure
from community.errors import DomainError, NotFound
from community.exports import ExportFormat, ExportStatus, queue_export
from community.exports import export_run as run_export
from community.models import Membership
from community.timezones import localize
from events.models import Event
from events.models_edges import AttendeeExport


def attendee_export_request(*, actor: Membership, event: Event, format: str) -> AttendeeExport:
    """Create an export of the event's registrations and queue its task after commit. The
    event's organizers and the moderator tiers only: the file names every attendee and holds
    their form answers."""
    if format not in ExportFormat.values:
        raise DomainError(_("Unknown export format."), code="invalid_format", field="format")
    ensure(actor, Action.MANAGE_EVENT, obj=event)
    export = AttendeeExport.objects.create(
        community_id=event.community_id,
        event=event,
        requested_by=actor.user if actor.user.pk else None,
        format=format,
    )
    queue_export(AttendeeExport, export.pk)
    return export


def attendee_export_run(*, export_id: str) -> str:
    """Write the export file (claimed under a row lock; safe to run twice)."""
    from events.attendee_export import write_attendee_export

    def write(export: AttendeeExport) -> None:
        export.event = Event.objects.select_related("community").get(pk=export.event_id)
        write_attendee_export(export)

    return run_export(AttendeeExport, export_id=export_id, write=write)


def attendee_export_file(
    *, actor: Membership | None, event: Event, export_id: str
) -> tuple[File, str]:
    """The finished export's file, opened for streaming, and the name to download it as; for
    those who may request one, 404 for everyone else."""
    ensure(actor, Action.MANAGE_EVENT, obj=event)
    export = AttendeeExport.objects.filter(
        pk=export_id,
        event_id=event.pk,
        community_id=event.community_id,
        status=ExportStatus.DONE,
    ).first()
    if export is None or not export.file:
        raise NotFound(_("Export not found."))
    created = localize(export.created_at, event.community)
    return export.file.open("rb"), f"{event.title}-{created:%Y%m%d-%H%M}.{export.format}"
