"""The rows of an attendee export: one per registration, in sign-up order, with its form
answers formatted as the survey export formats them (``surveys.exports.answer_formatter``:
labels instead of ids, formulas quoted). The writing is ``community.exports.write_table``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.db import DEFAULT_DB_ALIAS
from django.db.models import Count, Max
from django.utils import timezone
from django.utils.translation import gettext as _

from community.db_router import read_alias
from community.exports import safe_text, write_table
from community.timezones import community_zone
from events.forms import definition_from_json
from events.models import Registration, RegistrationStatus
from events.models_edges import AttendeeExport
from surveys.engine import SurveyDefinition
from surveys.exports import answer_formatter

CHUNK_SIZE = 2000


def _definition(export: AttendeeExport) -> SurveyDefinition | None:
    return definition_from_json(export.event.form) if export.event.form else None


def header(definition: SurveyDefinition | None) -> list[str]:
    columns = [
        _("Registration"),
        _("Member"),
        _("Status"),
        _("Guests"),
        _("Seats"),
        _("Note"),
        _("Signed up at"),
        _("Checked in (people)"),
        _("Checked in at"),
    ]
    return columns + ([q.title for q in definition.questions] if definition else [])


def _queryset(export: AttendeeExport, using: str = DEFAULT_DB_ALIAS):
    event = export.event
    return Registration.objects.using(using).filter(
        community_id=event.community_id, event_id=event.pk
    )


def rows(export: AttendeeExport, *, using: str = DEFAULT_DB_ALIAS) -> Iterator[list[Any]]:
    """The export's rows (without header), read with a server-side cursor from ``using``."""
    definition = _definition(export)
    formatters = [(q.id, answer_formatter(q)) for q in definition.questions] if definition else []
    labels = dict(RegistrationStatus.choices)
    zone = community_zone(export.event.community)
    queryset = (
        _queryset(export, using)
        .annotate(people_in=Count("checkins"), first_in=Max("checkins__checked_in_at"))
        .order_by("signed_up_at", "pk")
        .values_list(
            "pk",
            "user__nickname",
            "status",
            "guests",
            "seats",
            "note",
            "signed_up_at",
            "people_in",
            "first_in",
            "answers",
        )
    )

    def when(value) -> str:
        return timezone.localtime(value, zone).strftime("%Y-%m-%d %H:%M:%S") if value else ""

    for (
        pk,
        nickname,
        status,
        guests,
        seats,
        note,
        signed_up,
        people_in,
        first_in,
        answers,
    ) in queryset.iterator(chunk_size=CHUNK_SIZE):
        answers = answers or {}
        row = [
            pk,
            safe_text(nickname or ""),
            str(labels.get(status, status)),
            guests,
            seats,
            safe_text(note or ""),
            when(signed_up),
            people_in,
            when(first_in),
        ]
        row.extend(fmt(answers.get(question_id)) for question_id, fmt in formatters)
        yield row


def write_attendee_export(export: AttendeeExport) -> None:
    """Write the file of ``export`` and mark it done."""
    # An export may lag by the replica's delay (community/db_router.py).
    using = read_alias()
    write_table(
        export,
        header=header(_definition(export)),
        rows=rows(export, using=using),
        total=_queryset(export, using).count(),
        sheet_title=_("Attendees"),
    )
