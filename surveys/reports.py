"""Survey reports: counts, percentages, means, medians, NPS and cross-tabs.

Computed in SQL (``GROUP BY``) over ``Answer`` rows of submitted responses, so the number of
queries does not grow with the number of responses or (except text pages) questions.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.paginator import Paginator
from django.db.models import Count, Max, Min, Q, Sum

from community.db_router import lagging
from surveys.definition import definition_for
from surveys.engine import Question, QuestionType, nps_score
from surveys.models import Answer, Response, ResponseStatus, Survey

CHOICE_KINDS = (QuestionType.SINGLE_CHOICE, QuestionType.DROPDOWN, QuestionType.MULTIPLE_CHOICE)
SCALE_KINDS = (QuestionType.RATING, QuestionType.NPS, QuestionType.LIKERT, QuestionType.NUMBER)
TEXT_KINDS = (QuestionType.SHORT_TEXT, QuestionType.LONG_TEXT)
#: Question types a cross-tab can use (answers fall into a few categories).
CROSSTAB_KINDS = (*CHOICE_KINDS, QuestionType.RATING, QuestionType.NPS, QuestionType.LIKERT)
TEXT_PAGE_SIZE = 20
#: Distinct values listed in a number question's distribution (the rest summarised).
MAX_DISTRIBUTION = 50


def _percent(part: int, whole: int) -> float:
    return round(100.0 * part / whole, 1) if whole else 0.0


def _number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def median(distribution: list[tuple[Decimal, int]]) -> float | None:
    """Median of a sorted ``[(value, count)]`` distribution (mean of the middle two)."""
    total = sum(count for _value, count in distribution)
    if not total:
        return None
    lower_rank, upper_rank = (total - 1) // 2, total // 2
    seen = 0
    lower = upper = None
    for value, count in distribution:
        if lower is None and lower_rank < seen + count:
            lower = value
        if upper_rank < seen + count:
            upper = value
            break
        seen += count
    return float((lower + upper) / 2)


@dataclass
class QuestionReport:
    """The report of one question; which fields are filled depends on ``kind``."""

    id: str
    title: str
    type: str
    answered: int
    kind: str  # choices | ranking | scale | nps | matrix | text | date
    choices: list[dict[str, Any]] = field(default_factory=list)
    distribution: list[dict[str, Any]] = field(default_factory=list)
    mean: float | None = None
    median: float | None = None
    minimum: Any = None
    maximum: Any = None
    nps: dict[str, Any] | None = None
    matrix: list[dict[str, Any]] = field(default_factory=list)
    scale: list[str] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    text_page: Any = None
    #: Answered by fewer members than the survey's ``min_group_size``: no breakdown shown.
    hidden: bool = False

    def hide(self) -> None:
        """Drop every figure but the answer count (the small-group floor)."""
        self.hidden = True
        self.choices, self.distribution, self.matrix, self.texts = [], [], [], []
        self.mean = self.median = self.minimum = self.maximum = self.nps = None
        self.text_page = None


@dataclass
class SurveyReport:
    """All numbers of a survey report."""

    submitted: int
    started: int
    completion_rate: float
    questions: list[QuestionReport]


def _kind(question: Question) -> str:
    kind = question.type
    if kind in CHOICE_KINDS:
        return "choices"
    if kind == QuestionType.RANKING:
        return "ranking"
    if kind == QuestionType.NPS:
        return "nps"
    if kind in SCALE_KINDS:
        return "scale"
    if kind == QuestionType.MATRIX:
        return "matrix"
    if kind in TEXT_KINDS:
        return "text"
    return "date"


def group_floor(survey: Survey, *, members: bool = False) -> int:
    """The fewest answers a breakdown may show: the survey's ``min_group_size`` for anonymous
    surveys (moderators included) and for any survey's results shown to members; 0 (no
    floor) for a moderator's report of a named survey, who may read each response anyway."""
    return survey.min_group_size if (survey.anonymous or members) else 0


@lagging
def survey_report(
    survey: Survey,
    *,
    include_text: bool = True,
    text_pages: dict[str, int] | None = None,
    members: bool = False,
) -> SurveyReport:
    """The report of ``survey``. Text answers (a page per text question, ``text_pages``
    maps question id to page number) only with ``include_text``. A question answered by
    fewer than :func:`group_floor` members shows no breakdown (``hidden``), so watching the
    report after each response tells nothing about a small group. Anonymous surveys' reports
    read only mixed responses (the ``Response`` rows; waiting ones are sealed in the box)."""
    floor = group_floor(survey, members=members)
    definition = definition_for(survey)
    scope = {"community_id": survey.community_id, "survey_id": survey.pk}
    counts = Response.objects.filter(**scope).aggregate(
        started=Count("id"), submitted=Count("id", filter=Q(status=ResponseStatus.SUBMITTED))
    )
    answers = Answer.objects.filter(**scope)
    answered = dict(
        answers.values_list("question_id").annotate(n=Count("response_id", distinct=True))
    )
    choice_counts: dict[str, dict[str, tuple[int, Decimal | None]]] = defaultdict(dict)
    for question_id, choice_id, n, rank_sum in (
        answers.filter(choice_id__isnull=False)
        .values_list("question_id", "choice_id")
        .annotate(n=Count("id"), rank_sum=Sum("number"))
    ):
        choice_counts[question_id][choice_id] = (n, rank_sum)
    numbers: dict[str, list[tuple[Decimal, int]]] = defaultdict(list)
    for question_id, number, n in (
        answers.filter(choice_id__isnull=True, row_id__isnull=True, number__isnull=False)
        .values_list("question_id", "number")
        .annotate(n=Count("id"))
        .order_by("question_id", "number")
    ):
        numbers[question_id].append((number, n))
    matrix: dict[str, dict[tuple[str, int], int]] = defaultdict(dict)
    for question_id, row_id, number, n in (
        answers.filter(row_id__isnull=False)
        .values_list("question_id", "row_id", "number")
        .annotate(n=Count("id"))
    ):
        matrix[question_id][(row_id, int(number))] = n
    date_ranges = {
        question_id: (low, high)
        for question_id, low, high in answers.filter(date__isnull=False)
        .values_list("question_id")
        .annotate(low=Min("date"), high=Max("date"))
    }

    reports = []
    for question in definition.questions:
        n_answered = answered.get(question.id, 0)
        report = QuestionReport(
            id=question.id,
            title=question.title,
            type=str(question.type),
            answered=n_answered,
            kind=_kind(question),
        )
        if report.kind in ("choices", "ranking"):
            per_choice = choice_counts.get(question.id, {})
            for choice in question.choices:
                n, rank_sum = per_choice.get(choice.id, (0, None))
                item = {
                    "id": choice.id,
                    "label": choice.label,
                    "count": n,
                    "percent": _percent(n, n_answered),
                }
                if report.kind == "ranking":
                    item["mean_rank"] = round(float(rank_sum) / n, 2) if n and rank_sum else None
                report.choices.append(item)
            if report.kind == "ranking":
                report.choices.sort(key=lambda c: (c["mean_rank"] is None, c["mean_rank"] or 0))
        elif report.kind in ("scale", "nps"):
            distribution = numbers.get(question.id, [])
            total = sum(n for _v, n in distribution)
            if total:
                report.mean = round(float(sum(v * n for v, n in distribution) / total), 2)
                report.median = median(distribution)
                report.minimum = _number(distribution[0][0])
                report.maximum = _number(distribution[-1][0])
            if question.type in (QuestionType.RATING, QuestionType.NPS, QuestionType.LIKERT):
                low, high = question.scale_range
                by_value = {int(v): n for v, n in distribution}
                labels = list(question.scale_labels)
                for point in range(low, high + 1):
                    label = str(point)
                    if question.type == QuestionType.LIKERT and labels:
                        label = labels[point - 1]
                    report.distribution.append(
                        {
                            "value": point,
                            "label": label,
                            "count": by_value.get(point, 0),
                            "percent": _percent(by_value.get(point, 0), total),
                        }
                    )
                if question.type == QuestionType.NPS:
                    result = nps_score(by_value)
                    report.nps = {
                        "score": result.score,
                        "promoters": result.promoters,
                        "passives": result.passives,
                        "detractors": result.detractors,
                        "promoters_percent": _percent(result.promoters, result.total),
                        "passives_percent": _percent(result.passives, result.total),
                        "detractors_percent": _percent(result.detractors, result.total),
                    }
            else:
                for value, n in distribution[:MAX_DISTRIBUTION]:
                    report.distribution.append(
                        {
                            "value": _number(value),
                            "label": format(value.normalize(), "f"),
                            "count": n,
                            "percent": _percent(n, total),
                        }
                    )
        elif report.kind == "matrix":
            low, high = question.scale_range
            report.scale = list(question.scale_labels) or [str(p) for p in range(low, high + 1)]
            cells = matrix.get(question.id, {})
            for row in question.rows:
                row_counts = [cells.get((row.id, point), 0) for point in range(low, high + 1)]
                row_total = sum(row_counts)
                row_mean = (
                    round(
                        sum(p * c for p, c in zip(range(low, high + 1), row_counts, strict=True))
                        / row_total,
                        2,
                    )
                    if row_total
                    else None
                )
                report.matrix.append(
                    {
                        "id": row.id,
                        "label": row.label,
                        "counts": row_counts,
                        "percents": [_percent(c, row_total) for c in row_counts],
                        "mean": row_mean,
                    }
                )
        elif report.kind == "date":
            low, high = date_ranges.get(question.id, (None, None))
            report.minimum, report.maximum = low, high
        if include_text and (report.kind == "text" or any(c.is_other for c in question.choices)):
            texts = (
                answers.filter(question_id=question.id)
                .exclude(text="")
                .order_by("id")
                .values_list("text", flat=True)
            )
            page = Paginator(texts, TEXT_PAGE_SIZE).get_page((text_pages or {}).get(question.id))
            report.text_page = page
            report.texts = list(page.object_list)
        if n_answered < floor:
            report.hide()
        reports.append(report)
    return SurveyReport(
        submitted=counts["submitted"],
        started=counts["started"],
        completion_rate=_percent(counts["submitted"], counts["started"]),
        questions=reports,
    )


@dataclass
class CrossTab:
    """Counts of respondents by (answer to ``row_question``, answer to ``column_question``)."""

    row_question: Question
    column_question: Question
    row_labels: list[str]
    column_labels: list[str]
    counts: list[list[int]]
    row_totals: list[int]
    column_totals: list[int]
    total: int
    #: Fewer respondents than the survey's floor: every count is withheld (zero).
    hidden: bool = False


def _categories(question: Question) -> list[tuple[Any, str]]:
    if question.type in CHOICE_KINDS:
        return [(c.id, c.label) for c in question.choices]
    low, high = question.scale_range
    labels = list(question.scale_labels)
    return [
        (
            Decimal(point),
            labels[point - 1]
            if question.type == QuestionType.LIKERT and labels and point - 1 < len(labels)
            else str(point),
        )
        for point in range(low, high + 1)
    ]


@lagging
def crosstab(survey: Survey, row_question_id: str, column_question_id: str) -> CrossTab:
    """Cross-tabulate two choice or scale questions over submitted responses. A response
    counts in every cell its answers fall into (multiple choice may hit several)."""
    questions = definition_for(survey).question_map()
    row_q, col_q = questions[row_question_id], questions[column_question_id]
    if row_q.type not in CROSSTAB_KINDS or col_q.type not in CROSSTAB_KINDS:
        raise ValueError("cross-tabs need choice or scale questions")
    scope = Answer.objects.filter(community_id=survey.community_id, survey_id=survey.pk)

    def keyed(question: Question):
        column = "choice_id" if question.type in CHOICE_KINDS else "number"
        return scope.filter(question_id=question.id).values_list("response_id", column)

    row_cats, col_cats = _categories(row_q), _categories(col_q)
    row_index = {key: i for i, (key, _label) in enumerate(row_cats)}
    col_index = {key: i for i, (key, _label) in enumerate(col_cats)}
    by_response: dict[str, list[int]] = defaultdict(list)
    for response_id, key in keyed(row_q).iterator(chunk_size=5000):
        if key in row_index:
            by_response[response_id].append(row_index[key])
    counts = [[0] * len(col_cats) for _ in row_cats]
    for response_id, key in keyed(col_q).iterator(chunk_size=5000):
        if key in col_index:
            for i in by_response.get(response_id, ()):
                counts[i][col_index[key]] += 1
    total = sum(sum(row) for row in counts)
    hidden = total < group_floor(survey)
    if hidden:
        counts = [[0] * len(col_cats) for _ in row_cats]
    return CrossTab(
        row_question=row_q,
        column_question=col_q,
        row_labels=[label for _key, label in row_cats],
        column_labels=[label for _key, label in col_cats],
        counts=counts,
        row_totals=[sum(row) for row in counts],
        column_totals=[sum(col) for col in zip(*counts, strict=False)] or [0] * len(col_cats),
        total=0 if hidden else total,
        hidden=hidden,
    )
