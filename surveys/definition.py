"""Turning a survey's rows into the engine's :class:`SurveyDefinition`.

Built from three queries (pages, questions, choices) whatever the number of questions, and
cached in the shared cache under the survey's ``version`` (bumped by the authoring services,
``surveys.services.authoring``, on every change of a page, question or choice), so hot
endpoints usually build it from cache. Each process also keeps the definitions it used last
(:data:`LOCAL_SIZE`, under the same versioned key, so never stale): a submit needs the
definition three times (validation, answer rows, the answers shown back), and unpickling it
from the shared cache -- a Redis round trip each in production -- cost more than the rest of
the validation.
"""

from __future__ import annotations

import threading
from collections import OrderedDict, defaultdict
from typing import Any

from django.core.cache import cache

from surveys.engine import Choice, Condition, Page, Question, Rule, SurveyDefinition
from surveys.models import Choice as ChoiceRow
from surveys.models import Page as PageRow
from surveys.models import Question as QuestionRow
from surveys.models import Survey

CACHE_TIMEOUT = 24 * 3600
#: Definitions kept per process (least recently used dropped first).
LOCAL_SIZE = 256
_local: OrderedDict[str, SurveyDefinition] = OrderedDict()
_local_lock = threading.Lock()


def condition_from_json(data: Any) -> Condition | None:
    """The engine ``Condition`` stored as JSON, or None. Malformed JSON raises ValueError
    (the admin validates it on save, so stored rows are well formed)."""
    if not data:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("rules"), list):
        raise ValueError("a condition is {'match': 'all'|'any', 'rules': [...]}")
    rules = []
    for rule in data["rules"]:
        if not isinstance(rule, dict) or not {"question_id", "operator"} <= set(rule):
            raise ValueError("a rule is {'question_id': ..., 'operator': ..., 'value': ...}")
        rules.append(Rule(str(rule["question_id"]), rule["operator"], rule.get("value")))
    return Condition(tuple(rules), data.get("match", "all"))


def _cache_key(survey: Survey) -> str:
    return f"surveys:definition:{survey.pk}:{survey.version}"


def build_definition(survey: Survey) -> SurveyDefinition:
    """Build the definition from the database (3 queries), bypassing the cache."""
    pages = list(PageRow.objects.filter(community_id=survey.community_id, survey=survey))
    questions = list(QuestionRow.objects.filter(community_id=survey.community_id, survey=survey))
    choices: dict[str, list[ChoiceRow]] = defaultdict(list)
    for choice in ChoiceRow.objects.filter(community_id=survey.community_id, survey=survey):
        choices[choice.question_id].append(choice)
    page_order = {page.id: index for index, page in enumerate(pages)}
    # Questions are listed page by page; questions without a page come last (the engine
    # reports them as errors when the survey has pages).
    questions.sort(key=lambda q: (page_order.get(q.page_id, len(pages)), q.order, q.id))
    return SurveyDefinition(
        pages=tuple(
            Page(id=p.id, title=p.title, condition=condition_from_json(p.condition)) for p in pages
        ),
        questions=tuple(
            Question(
                id=q.id,
                type=q.type,
                title=q.title,
                required=q.required,
                choices=tuple(
                    Choice(c.id, c.label, c.is_other) for c in choices[q.id] if not c.is_row
                ),
                rows=tuple(Choice(c.id, c.label) for c in choices[q.id] if c.is_row),
                min_value=q.min_value,
                max_value=q.max_value,
                integer_only=q.integer_only,
                min_length=q.min_length,
                max_length=q.max_length,
                pattern=q.pattern or None,
                pattern_message=q.pattern_message or None,
                min_selections=q.min_selections,
                max_selections=q.max_selections,
                scale_min=q.scale_min,
                scale_max=q.scale_max,
                scale_labels=tuple(str(label) for label in q.scale_labels or ()),
                shuffle_choices=q.shuffle_choices,
                condition=condition_from_json(q.condition),
                page_id=q.page_id if pages else None,
            )
            for q in questions
        ),
    )


def definition_for(survey: Survey) -> SurveyDefinition:
    """The survey's engine definition (immutable), from this process's recent ones or the
    shared cache when its version is known, else built and cached."""
    key = _cache_key(survey)
    with _local_lock:
        definition = _local.get(key)
        if definition is not None:
            _local.move_to_end(key)
            return definition
    definition = cache.get(key)
    if definition is None:
        definition = build_definition(survey)
        cache.set(key, definition, CACHE_TIMEOUT)
    with _local_lock:
        _local[key] = definition
        while len(_local) > LOCAL_SIZE:
            _local.popitem(last=False)
    return definition


def extra_fields(survey: Survey) -> dict[str, dict[str, str]]:
    """Texts the engine does not carry (help texts, page descriptions), cached alongside
    the definition: ``{"questions": {id: description}, "pages": {id: description}}``."""
    key = _cache_key(survey) + ":extra"
    extra = cache.get(key)
    if extra is None:
        extra = {
            "questions": dict(
                QuestionRow.objects.filter(community_id=survey.community_id, survey=survey)
                .exclude(description="")
                .values_list("id", "description")
            ),
            "pages": dict(
                PageRow.objects.filter(community_id=survey.community_id, survey=survey)
                .exclude(description="")
                .values_list("id", "description")
            ),
        }
        cache.set(key, extra, CACHE_TIMEOUT)
    return extra
