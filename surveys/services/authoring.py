"""Authoring a survey's definition: its settings, pages, questions and choices.

Every function acts as a moderator of the survey's community (checked here, whoever calls),
holds the survey row lock (``FOR NO KEY UPDATE``: it does not block members' responses from
pointing at the survey) and bumps ``Survey.version`` when the definition changes, so the cached
engine definition is never stale and each response can record the version it answered.

Once a survey has its first *submitted* response, its definition may grow and be reworded but
not lose what respondents answered: questions, pages holding questions and choices cannot be
deleted, a question's type cannot change, and neither can ``anonymous`` (fixed when the survey is
published: respondents were promised it) nor ``allow_multiple_responses``; the cap cannot go
below the number of submitted responses. Drafts do not freeze the definition: a draft is
validated in full against the current definition when it is submitted, and a stale answer is
refused with the question's error.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, NamedTuple

from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from community.authz import Action, ensure
from community.errors import DomainError, NotFound
from community.locking import lock_rows
from community.models import Membership
from surveys.engine import QuestionType
from surveys.models import Choice, Page, Question, Response, ResponseStatus, Survey, SurveyStatus

#: Survey settings a moderator edits (status and counts change only through the services).
SURVEY_FIELDS = (
    "title",
    "description",
    "thank_you_text",
    "opens_at",
    "closes_at",
    "response_cap",
    "allow_multiple_responses",
    "allow_edit_after_submit",
    "anonymous",
    "publish_results",
    "min_group_size",
    "quiz_mode",
    "quiz_time_limit",
    "quiz_results",
)
PAGE_FIELDS = ("title", "description", "condition", "order")
#: A question's configuration columns (``page`` may be a ``Page`` or its id).
QUESTION_FIELDS = (
    "page",
    "type",
    "title",
    "description",
    "required",
    "min_value",
    "max_value",
    "integer_only",
    "min_length",
    "max_length",
    "pattern",
    "pattern_message",
    "min_selections",
    "max_selections",
    "scale_min",
    "scale_max",
    "scale_labels",
    "shuffle_choices",
    "condition",
    "order",
    "quiz_points",
    "quiz_answer",
    "quiz_explanation",
)
#: A quiz question's fields that decide scores: fixed once answers were scored (scores are
#: stored at submission; changing the key would silently leave them wrong).
QUIZ_KEY_FIELDS = ("quiz_points", "quiz_answer")


class ChoiceSpec(NamedTuple):
    """One wanted choice (or matrix row) of a question, in order: ``id`` of an existing choice
    to keep (relabelled when ``label`` differs), or None for a new one."""

    id: str | None
    label: str
    is_other: bool = False
    is_row: bool = False
    is_correct: bool = False


# --- shared checks --------------------------------------------------------------------------
def _locked_survey(*, actor: Membership, survey_id: str) -> Survey:
    """The actor's community's survey, row-locked until the transaction ends; refused unless
    the actor moderates. Call inside ``transaction.atomic``."""
    ensure(actor, Action.VIEW)  # a missing membership is a 404, before any lookup
    survey = lock_rows(Survey.objects.filter(pk=survey_id, community_id=actor.community_id)).first()
    if survey is None:
        raise NotFound(_("Survey not found."))
    ensure(actor, Action.MANAGE_SURVEYS)
    return survey


def _part(model, *, actor: Membership, pk: str, message: str):
    """A page/question/choice of the actor's community, with its survey locked."""
    ensure(actor, Action.VIEW)
    row = model.objects.filter(pk=pk, community_id=actor.community_id).first()
    if row is None:
        raise NotFound(message)
    survey = _locked_survey(actor=actor, survey_id=row.survey_id)
    return model.objects.get(pk=row.pk), survey


def survey_has_submissions(survey: Survey) -> bool:
    """Whether anyone submitted a response: from then on, the definition is frozen as the
    module docstring says. Read with the survey row locked, so no first submission can
    commit in between (it counts itself on that row last)."""
    return (
        survey.submitted_count > 0
        or Response.objects.filter(
            community_id=survey.community_id, survey=survey, status=ResponseStatus.SUBMITTED
        ).exists()
    )


def _refuse_after_submissions(survey: Survey, message: str, *, field: str | None = None) -> None:
    if survey_has_submissions(survey):
        raise DomainError(message, code="definition_locked", field=field)


def _bump_version(survey: Survey) -> None:
    """The definition changed: a new version (the cache key of ``definition_for``)."""
    Survey.objects.filter(pk=survey.pk).update(version=F("version") + 1)
    survey.refresh_from_db(fields=["version"])


def _unknown(fields: Iterable[str], allowed: tuple[str, ...]) -> None:
    unknown = set(fields) - set(allowed)
    if unknown:
        raise TypeError(f"not editable here: {', '.join(sorted(unknown))}")


# --- survey settings ------------------------------------------------------------------------
def _check_settings(survey: Survey, *, previous: Survey | None) -> None:
    """Raise ``DomainError`` (with the field) when ``survey``'s settings cannot be saved;
    ``previous`` is the stored row when editing."""
    if not (survey.title or "").strip():
        raise DomainError(_("A survey needs a title."), code="title_required", field="title")
    opens_at: datetime | None = survey.opens_at
    closes_at: datetime | None = survey.closes_at
    if opens_at and closes_at and closes_at <= opens_at:
        raise DomainError(
            _("The closing time must be after the opening time."),
            code="closes_before_opening",
            field="closes_at",
        )
    if survey.response_cap is not None and survey.response_cap < survey.submitted_count:
        raise DomainError(
            _("The response cap cannot be lower than the %(count)d response(s) already submitted.")
            % {"count": survey.submitted_count},
            code="cap_below_submitted",
            field="response_cap",
        )
    if survey.min_group_size < 2:
        raise DomainError(
            _("The smallest group shown must be at least 2."),
            code="group_too_small",
            field="min_group_size",
        )
    _check_quiz_settings(survey)
    if previous is None:
        return
    if survey.quiz_mode != previous.quiz_mode:
        _refuse_after_submissions(
            previous,
            _("Quiz mode cannot change once responses have been submitted."),
            field="quiz_mode",
        )
    if survey.min_group_size < previous.min_group_size and previous.status != SurveyStatus.DRAFT:
        raise DomainError(
            _(
                "The smallest group shown cannot be lowered once the survey has been "
                "published: respondents were told so."
            ),
            code="setting_locked",
            field="min_group_size",
        )
    if survey.anonymous != previous.anonymous and (
        previous.published_at is not None or previous.status != SurveyStatus.DRAFT
    ):
        raise DomainError(
            _(
                "Whether a survey is anonymous cannot change once it has been published: "
                "respondents were told so."
            ),
            code="setting_locked",
            field="anonymous",
        )
    if survey.allow_multiple_responses != previous.allow_multiple_responses:
        _refuse_after_submissions(
            previous,
            _(
                "Whether members may respond several times cannot change once responses "
                "have been submitted."
            ),
            field="allow_multiple_responses",
        )


def _check_quiz_settings(survey: Survey) -> None:
    """A quiz is named (a leaderboard and a draw need to know who scored; an anonymous
    survey's responses are unlinkable by design), answered once and final (results may show
    right after submitting, so editing afterwards would let members copy the key)."""
    if survey.quiz_time_limit is not None and survey.quiz_time_limit < 10:
        raise DomainError(
            _("A quiz time limit must be at least 10 seconds."),
            code="quiz_time_limit_too_short",
            field="quiz_time_limit",
        )
    if not survey.quiz_mode:
        return
    if survey.anonymous:
        raise DomainError(
            _("A quiz cannot be anonymous: its scores and leaderboard belong to members."),
            code="quiz_needs_named_survey",
            field="anonymous",
        )
    if survey.allow_multiple_responses or survey.allow_edit_after_submit:
        raise DomainError(
            _("A quiz is answered once: it allows neither several responses nor editing."),
            code="quiz_answered_once",
            field="allow_edit_after_submit"
            if survey.allow_edit_after_submit
            else "allow_multiple_responses",
        )


def survey_create(*, actor: Membership, title: str, **fields: Any) -> Survey:
    """Create a draft survey in the actor's community, authored by the actor (a moderator)."""
    _unknown(fields, SURVEY_FIELDS)
    ensure(actor, Action.MANAGE_SURVEYS)
    survey = Survey(
        community_id=actor.community_id,
        author=actor.user if actor.user.pk else None,
        title=title,
        status=SurveyStatus.DRAFT,
        **fields,
    )
    _check_settings(survey, previous=None)
    survey.save(force_insert=True)
    return survey


def survey_update(*, actor: Membership, survey_id: str, **changes: Any) -> Survey:
    """Change the survey's settings (``SURVEY_FIELDS``). They are not its definition, so the
    version stays; the rules that keep existing answers meaningful are checked here."""
    _unknown(changes, SURVEY_FIELDS)
    with transaction.atomic():
        survey = _locked_survey(actor=actor, survey_id=survey_id)
        previous = Survey.objects.get(pk=survey.pk)
        for name, value in changes.items():
            setattr(survey, name, value)
        _check_settings(survey, previous=previous)
        if changes:
            survey.save(update_fields=[*changes, "updated_at"])
    return survey


# --- pages ----------------------------------------------------------------------------------
def page_create(
    *,
    actor: Membership,
    survey_id: str,
    title: str = "",
    description: str = "",
    condition: dict | None = None,
    order: int | None = None,
) -> Page:
    """Add a page (section) at the end, or at ``order``."""
    with transaction.atomic():
        survey = _locked_survey(actor=actor, survey_id=survey_id)
        if order is None:
            order = Page.objects.filter(survey=survey).count() + 1
        page = Page.objects.create(
            community_id=survey.community_id,
            survey=survey,
            title=title,
            description=description,
            condition=condition,
            order=order,
        )
        _bump_version(survey)
    return page


def page_update(*, actor: Membership, page_id: str, **changes: Any) -> Page:
    """Change a page's title, description, display condition or place."""
    _unknown(changes, PAGE_FIELDS)
    if changes.get("order", 0) is None:
        del changes["order"]  # no place given: keep it
    with transaction.atomic():
        page, survey = _part(Page, actor=actor, pk=page_id, message=_("Page not found."))
        changed = [name for name, value in changes.items() if getattr(page, name) != value]
        for name in changed:
            setattr(page, name, changes[name])
        if changed:
            page.save(update_fields=changed)
            _bump_version(survey)
    return page


def page_delete(*, actor: Membership, page_id: str) -> None:
    """Delete a page; its questions lose their page. Refused after the first submitted
    response when the page holds questions (their answers would lose their place)."""
    with transaction.atomic():
        page, survey = _part(Page, actor=actor, pk=page_id, message=_("Page not found."))
        if page.questions.exists():
            _refuse_after_submissions(
                survey,
                _(
                    "A page with questions cannot be deleted once responses have been "
                    "submitted; rename it instead."
                ),
            )
        page.delete()
        _bump_version(survey)


# --- questions ------------------------------------------------------------------------------
def _clean_question_fields(survey: Survey, fields: dict[str, Any]) -> dict[str, Any]:
    """``fields`` with ``page`` turned into ``page_id`` (a page of this survey), checked."""
    fields = dict(fields)
    if fields.get("order", 0) is None:
        del fields["order"]  # no place given: keep it (or append, when creating)
    if "type" in fields and fields["type"] not in {t.value for t in QuestionType}:
        raise DomainError(_("Unknown question type."), code="invalid_type", field="type")
    if "title" in fields and not (fields["title"] or "").strip():
        raise DomainError(_("A question needs a text."), code="title_required", field="title")
    if "page" in fields:
        page = fields.pop("page")
        page_id = page.pk if isinstance(page, Page) else page
        if page_id and not Page.objects.filter(pk=page_id, survey=survey).exists():
            raise DomainError(
                _("That page is not part of this survey."), code="invalid_page", field="page"
            )
        fields["page_id"] = page_id or None
    return fields


def question_create(
    *,
    actor: Membership,
    survey_id: str,
    type: str,
    title: str,
    choices: Iterable[ChoiceSpec] = (),
    **fields: Any,
) -> Question:
    """Add a question (with its choices or matrix rows) at the end, or at ``order``."""
    _unknown(fields, QUESTION_FIELDS)
    with transaction.atomic():
        survey = _locked_survey(actor=actor, survey_id=survey_id)
        values = _clean_question_fields(survey, {**fields, "type": type, "title": title})
        if values.get("order") is None:
            values["order"] = Question.objects.filter(survey=survey).count() + 1
        question = Question.objects.create(
            community_id=survey.community_id, survey=survey, **values
        )
        _sync_choices(survey, question, list(choices))
        _bump_version(survey)
    return question


def question_update(
    *,
    actor: Membership,
    question_id: str,
    choices: Iterable[ChoiceSpec] | None = None,
    **changes: Any,
) -> Question:
    """Change a question's configuration (``QUESTION_FIELDS``) and, when ``choices`` is given,
    its choices (see :func:`choice_sync`). Its type is fixed once responses were submitted."""
    _unknown(changes, QUESTION_FIELDS)
    with transaction.atomic():
        question, survey = _part(
            Question, actor=actor, pk=question_id, message=_("Question not found.")
        )
        values = _clean_question_fields(survey, changes)
        changed = [name for name, value in values.items() if getattr(question, name) != value]
        if survey.quiz_mode and set(QUIZ_KEY_FIELDS) & set(changed):
            _refuse_after_submissions(
                survey,
                _(
                    "The correct answers and points of a quiz cannot change once answers "
                    "have been scored."
                ),
                field=next(name for name in QUIZ_KEY_FIELDS if name in changed),
            )
        if "type" in changed:
            _refuse_after_submissions(
                survey,
                _(
                    "The type of a question cannot change once responses have been submitted; "
                    "add a new question instead."
                ),
                field="type",
            )
        for name in changed:
            setattr(question, name, values[name])
        if changed:
            question.save(update_fields=changed)
        synced = choices is not None and _sync_choices(survey, question, list(choices))
        if changed or synced:
            _bump_version(survey)
    return question


def question_delete(*, actor: Membership, question_id: str) -> None:
    """Delete a question with its choices; refused once responses were submitted."""
    with transaction.atomic():
        question, survey = _part(
            Question, actor=actor, pk=question_id, message=_("Question not found.")
        )
        _refuse_after_submissions(
            survey,
            _(
                "Questions cannot be deleted once responses have been submitted; "
                "duplicate the survey to start a new version."
            ),
        )
        question.delete()
        _bump_version(survey)


# --- choices --------------------------------------------------------------------------------
def _sync_choices(survey: Survey, question: Question, wanted: list[ChoiceSpec]) -> bool:
    """Make the question's choices match ``wanted``; True when anything changed."""
    existing = {c.id: c for c in Choice.objects.filter(question=question)}
    kept = {spec.id for spec in wanted if spec.id}
    if kept - set(existing):
        raise DomainError(
            _("That choice is not part of this question."), code="invalid_choice", field="choices"
        )
    removed = [c for choice_id, c in existing.items() if choice_id not in kept]
    retyped = [spec for spec in wanted if spec.id and existing[spec.id].is_row != spec.is_row]
    rekeyed = survey.quiz_mode and (
        any(spec.is_correct for spec in wanted if spec.id is None)
        or any(spec.id and existing[spec.id].is_correct != spec.is_correct for spec in wanted)
    )
    if rekeyed:
        _refuse_after_submissions(
            survey,
            _(
                "The correct answers and points of a quiz cannot change once answers "
                "have been scored."
            ),
            field="choices",
        )
    if removed or retyped:
        _refuse_after_submissions(
            survey,
            _("Choices cannot be removed once responses have been submitted; rename them instead."),
            field="choices",
        )
    changed = False
    for choice in removed:
        choice.delete()
        changed = True
    for order, spec in enumerate(wanted, start=1):
        label = (spec.label or "").strip()[:200]
        is_other = spec.is_other and not spec.is_row
        is_correct = spec.is_correct and not spec.is_row
        if not label:
            raise DomainError(
                _("Every choice needs a label."), code="label_required", field="choices"
            )
        if spec.id is None:
            Choice.objects.create(
                community_id=question.community_id,
                survey_id=question.survey_id,
                question=question,
                order=order,
                label=label,
                is_other=is_other,
                is_row=spec.is_row,
                is_correct=is_correct,
            )
            changed = True
            continue
        choice = existing[spec.id]
        wanted_values = {
            "order": order,
            "label": label,
            "is_other": is_other,
            "is_row": spec.is_row,
            "is_correct": is_correct,
        }
        fields = [name for name, value in wanted_values.items() if getattr(choice, name) != value]
        if fields:
            for name in fields:
                setattr(choice, name, wanted_values[name])
            choice.save(update_fields=fields)
            changed = True
    return changed


def choice_sync(*, actor: Membership, question_id: str, choices: Iterable[ChoiceSpec]) -> Question:
    """Make the question's choices and matrix rows exactly ``choices``, in that order: kept
    ids keep their answers and the logic that refers to them. Removing a choice (or turning
    a choice into a row) is refused once responses were submitted; relabelling is not."""
    with transaction.atomic():
        question, survey = _part(
            Question, actor=actor, pk=question_id, message=_("Question not found.")
        )
        if _sync_choices(survey, question, list(choices)):
            _bump_version(survey)
    return question
