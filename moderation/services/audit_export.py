"""CSV/XLSX exports of a community's audit log, through the export machinery every kind shares
(``community.exports``): requesting one, the task body and the download."""

from __future__ import annotations

from collections.abc import Iterator

from django.core.files import File
from django.utils.translation import gettext as _

from community.authz import Action, ensure
from community.errors import DomainError, NotFound
from community.exports import ExportFormat, ExportStatus, queue_export, safe_text, write_table
from community.exports import export_run as run_export
from community.models import Community, Membership
from community.timezones import localize
from moderation.models import AuditAction, AuditEntry, AuditExport


def audit_export_request(*, actor: Membership, format: str) -> AuditExport:
    """Create an export of the community's audit log and queue its task after commit (the
    admin tiers, who may read the log)."""
    if format not in ExportFormat.values:
        raise DomainError(_("Unknown export format."), code="invalid_format", field="format")
    ensure(actor, Action.VIEW_AUDIT_LOG)
    export = AuditExport.objects.create(
        community_id=actor.community_id,
        requested_by=actor.user if actor.user.pk else None,
        format=format,
    )
    queue_export(AuditExport, export.pk)
    return export


def _rows(export: AuditExport, community: Community) -> Iterator[list]:
    entries = (
        AuditEntry.objects.filter(community_id=export.community_id)
        .select_related("actor", "subject")
        .order_by("at", "id")
    )
    for entry in entries.iterator(chunk_size=1000):
        yield [
            localize(entry.at, community).isoformat(),
            str(AuditAction(entry.action).label) if entry.action in AuditAction.values else "",
            safe_text(entry.actor.nickname if entry.actor else ""),
            entry.actor_id or "",
            safe_text(entry.subject.nickname if entry.subject else ""),
            entry.subject_id or "",
            safe_text(entry.reason),
            safe_text(", ".join(f"{k}={v}" for k, v in sorted(entry.details.items()) if v)),
        ]


def audit_export_run(*, export_id: str) -> str:
    """Write the export file (claimed under a row lock; safe to run twice)."""

    def write(export: AuditExport) -> None:
        community = Community.objects.get(pk=export.community_id)
        write_table(
            export,
            header=[
                _("when"),
                _("what"),
                _("who"),
                _("who (id)"),
                _("to whom"),
                _("to whom (id)"),
                _("why"),
                _("details"),
            ],
            rows=_rows(export, community),
            total=AuditEntry.objects.filter(community_id=export.community_id).count(),
            sheet_title=_("audit log"),
        )

    return run_export(AuditExport, export_id=export_id, write=write)


def audit_export_file(*, actor: Membership | None, export_id: str) -> tuple[File, str]:
    """The finished export's file, opened for streaming, and its download name; 404 for
    anyone who may not read the log."""
    ensure(actor, Action.VIEW_AUDIT_LOG)
    export = AuditExport.objects.filter(
        pk=export_id, community_id=actor.community_id, status=ExportStatus.DONE
    ).first()
    if export is None or not export.file:
        raise NotFound(_("Export not found."))
    created = localize(export.created_at, actor.community)
    return export.file.open("rb"), f"audit-{created:%Y%m%d-%H%M}.{export.format}"
