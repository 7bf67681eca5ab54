"""CSV and XLSX exports of submitted responses: the header and the rows of a survey export.

The writing (streamed with bounded memory, progress, leases and attempts, the private storage)
is the shared machinery of ``community.exports``; this module says what a survey's rows are.
Responses are read with ``.iterator(chunk_size=...)`` (a server-side cursor on PostgreSQL, so at
most one chunk is in memory), and each row is formatted from the stored JSON with a label map
built once from the definition (:func:`answer_formatter`, also used by the attendee export of
events, whose forms are survey-engine definitions).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

from django.db import DEFAULT_DB_ALIAS
from django.utils import timezone
from django.utils.translation import gettext as _

from community.db_router import read_alias
from community.exports import ExportSuperseded, safe_text, write_table
from community.timezones import community_zone
from surveys.definition import definition_for
from surveys.engine import Question, QuestionType, SurveyDefinition
from surveys.models import Export, Response, ResponseStatus

CHUNK_SIZE = 2000
_safe_text = safe_text
__all__ = ["ExportSuperseded", "answer_formatter", "header", "rows", "write_export"]


def header(definition: SurveyDefinition, *, anonymous: bool) -> list[str]:
    """Column titles: response id, submitted at, (respondent), one per question."""
    columns = [_("Response"), _("Submitted at")]
    if not anonymous:
        columns.append(_("Respondent"))
    return columns + [question.title for question in definition.questions]


def answer_formatter(question: Question) -> Callable[[Any], Any]:
    """A function turning a stored answer of ``question`` into a cell (labels, not ids)."""
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


def rows(export: Export, *, using: str = DEFAULT_DB_ALIAS) -> Iterator[list[Any]]:
    """The export's rows (without header), read with a server-side cursor from ``using``."""
    survey = export.survey
    definition = definition_for(survey)
    formatters = [(q.id, answer_formatter(q)) for q in definition.questions]
    fields = ["id", "submitted_at", "answers"]
    if not survey.anonymous:
        fields.append("respondent__nickname")
    queryset = (
        Response.objects.using(using)
        .filter(community_id=survey.community_id, survey=survey, status=ResponseStatus.SUBMITTED)
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


def write_export(export: Export) -> None:
    """Write the file of ``export`` and mark it done (``community.exports.write_table``)."""
    survey = export.survey
    # An export may lag by the replica's delay (community/db_router.py).
    using = read_alias()
    total = (
        Response.objects.using(using)
        .filter(community_id=survey.community_id, survey=survey, status=ResponseStatus.SUBMITTED)
        .count()
    )
    write_table(
        export,
        header=header(definition_for(survey), anonymous=survey.anonymous),
        rows=rows(export, using=using),
        total=total,
        sheet_title=_("Responses"),
    )
