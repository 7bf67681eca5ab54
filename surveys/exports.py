"""CSV and XLSX exports of submitted responses, streamed row by row with bounded memory.

Memory stays flat whatever the number of responses: responses are read with
``.iterator(chunk_size=...)`` (a server-side cursor on PostgreSQL, so at most one chunk is
in memory), each row is formatted from the stored JSON with a label map built once from the
definition, and written at once -- ``csv.writer`` to a temporary file, openpyxl's
``write_only`` workbook (which streams the sheet XML to a temporary file instead of keeping
cells). Progress is saved every ``PROGRESS_EVERY`` rows. The finished file is copied into
the export's ``FileField`` in chunks, under a random name in the private export storage
(``EXPORT_ROOT``: never served by URL, see ``community.storage``).

A run works for one attempt (``Export.attempts`` when it claimed the export): every progress
write and the final one are conditional on it, so a run that lost its lease to a newer
attempt stops at its next progress write and never marks the export done (``ExportSuperseded``).
"""

from __future__ import annotations

import csv
import io
import secrets
import tempfile
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from django.core.files import File
from django.utils import timezone
from django.utils.translation import gettext as _

from community.timezones import community_zone
from surveys.definition import definition_for
from surveys.engine import Question, QuestionType, SurveyDefinition
from surveys.models import Export, ExportFormat, ExportStatus, Response, ResponseStatus

CHUNK_SIZE = 2000
PROGRESS_EVERY = 2000


def header(definition: SurveyDefinition, *, anonymous: bool) -> list[str]:
    """Column titles: response id, submitted at, (respondent), one per question."""
    columns = [_("Response"), _("Submitted at")]
    if not anonymous:
        columns.append(_("Respondent"))
    return columns + [question.title for question in definition.questions]


def _formatter(question: Question):
    labels = {c.id: c.label for c in question.choices}
    rows = {r.id: r.label for r in question.rows}
    other = {c.id for c in question.choices if c.is_other}
    kind = question.type

    def with_other(choice_id: str, value: dict[str, Any]) -> str:
        label = labels.get(choice_id, choice_id)
        if choice_id in other and value.get("other_text"):
            return _safe_text(f"{label}: {value['other_text']}")
        return _safe_text(label)

    def fmt(value: Any) -> Any:
        if value is None:
            return ""
        if kind in (QuestionType.SINGLE_CHOICE, QuestionType.DROPDOWN):
            return with_other(value.get("choice"), value)
        if kind == QuestionType.MULTIPLE_CHOICE:
            return "; ".join(with_other(c, value) for c in value.get("choices", []))
        if kind == QuestionType.RANKING:
            return " > ".join(labels.get(c, c) for c in value)
        if kind == QuestionType.MATRIX:
            return "; ".join(f"{rows.get(r, r)}: {p}" for r, p in value.items())
        if kind == QuestionType.LIKERT and question.scale_labels:
            return question.scale_labels[int(value) - 1]
        if kind == QuestionType.NUMBER:
            return Decimal(value)
        if isinstance(value, str):
            return _safe_text(value)
        return value

    return fmt


def rows(export: Export) -> Iterator[list[Any]]:
    """The export's rows (without header), read with a server-side cursor."""
    survey = export.survey
    definition = definition_for(survey)
    formatters = [(q.id, _formatter(q)) for q in definition.questions]
    fields = ["id", "submitted_at", "answers"]
    if not survey.anonymous:
        fields.append("respondent__nickname")
    queryset = (
        Response.objects.filter(
            community_id=survey.community_id, survey=survey, status=ResponseStatus.SUBMITTED
        )
        .order_by("submitted_at", "id")
        .values_list(*fields)
    )
    tz = community_zone(survey.community)
    for record in queryset.iterator(chunk_size=CHUNK_SIZE):
        answers = record[2] or {}
        row = [record[0], timezone.localtime(record[1], tz).strftime("%Y-%m-%d %H:%M:%S")]
        if not survey.anonymous:
            row.append(_safe_text(record[3] or ""))
        row.extend(fmt(answers.get(question_id)) for question_id, fmt in formatters)
        yield row


class ExportSuperseded(Exception):
    """The sweep queued the export again while this run was writing it: stop, keep nothing."""


def _mine(export: Export):
    """The export's row, as long as it is still this run's attempt."""
    return Export.objects.filter(
        pk=export.pk, attempts=export.attempts, status=ExportStatus.RUNNING
    )


def _progress(export: Export, done: int) -> None:
    """Save progress; it is also the run's heartbeat, which keeps the sweep away."""
    if not _mine(export).update(rows_done=done, heartbeat_at=timezone.now()):
        raise ExportSuperseded(export.pk)


def file_name(export: Export) -> str:
    """A random, unguessable file name (the survey and the time are in the row, not here)."""
    return f"{secrets.token_urlsafe(24)}.{export.format}"


def write_export(export: Export) -> None:
    """Write the file of ``export`` and mark it done."""
    survey = export.survey
    total = Response.objects.filter(
        community_id=survey.community_id, survey=survey, status=ResponseStatus.SUBMITTED
    ).count()
    _mine(export).update(rows_total=total)
    title = header(definition_for(survey), anonymous=survey.anonymous)
    done = 0
    with tempfile.TemporaryFile() as tmp:
        if export.format == ExportFormat.CSV:
            text = io.TextIOWrapper(tmp, encoding="utf-8-sig", newline="")
            writer = csv.writer(text)
            writer.writerow(title)
            for row in rows(export):
                writer.writerow(row)
                done += 1
                if done % PROGRESS_EVERY == 0:
                    _progress(export, done)
            text.flush()
            text.detach()
        else:
            from openpyxl import Workbook

            workbook = Workbook(write_only=True)
            sheet = workbook.create_sheet(title=_("Responses")[:31])
            sheet.append(title)
            for row in rows(export):
                sheet.append(row)
                done += 1
                if done % PROGRESS_EVERY == 0:
                    _progress(export, done)
            workbook.save(tmp)
        tmp.seek(0)
        export.file.save(file_name(export), File(tmp), save=False)
    finished = _mine(export).update(
        file=export.file.name,
        rows_done=done,
        rows_total=max(total, done),
        status=ExportStatus.DONE,
        finished_at=timezone.now(),
        heartbeat_at=timezone.now(),
    )
    if not finished:  # superseded while writing the file: the newer attempt's file counts
        export.file.delete(save=False)
        raise ExportSuperseded(export.pk)


def _safe_text(value: str) -> str:
    """Quote text a spreadsheet would run as a formula (CSV/formula injection)."""
    if value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value
