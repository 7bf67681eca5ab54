"""A survey's life: checking and publishing its definition, closing it, duplicating it."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from community.authz import Action, can, ensure
from community.errors import Conflict, DomainError, Forbidden, NotFound
from community.locking import lock_rows
from community.models import Membership
from surveys.definition import build_definition
from surveys.engine import (
    DefinitionError,
    check_definition,
)
from surveys.models import (
    Choice,
    Page,
    Question,
    Survey,
    SurveyStatus,
)
from surveys.services.common import DefinitionInvalid
from surveys.services.mixing import queue_mix
from surveys.services.quiz import quiz_check


# --- authoring (admin) ----------------------------------------------------------------------
def survey_check(*, survey: Survey) -> list[DefinitionError]:
    """Problems of the survey's definition (built fresh, not from cache), translated."""
    return check_definition(build_definition(survey), gettext=_)


def survey_publish(*, actor: Membership, survey_id: str) -> Survey:
    """Publish a draft (or re-open a closed) survey after checking its definition.

    Raises :class:`DefinitionInvalid` with every problem, so the admin can show them all."""
    with transaction.atomic():
        survey = lock_rows(Survey.objects.filter(pk=survey_id)).first()
        if survey is None or survey.community_id != actor.community_id:
            raise NotFound(_("Survey not found."))
        if not can(actor, Action.MANAGE_SURVEYS):
            raise Forbidden(_("Only moderators can publish surveys."), code="tier_too_low")
        if survey.status == SurveyStatus.PUBLISHED:
            raise Conflict(_("This survey is already published."), code="already_published")
        errors = survey_check(survey=survey)
        if not Question.objects.filter(community_id=survey.community_id, survey=survey).exists():
            raise DomainError(_("Add at least one question first."), code="no_questions")
        if errors:
            raise DefinitionInvalid(errors)
        if survey.quiz_mode:
            quiz_check(survey=survey)
        survey.status = SurveyStatus.PUBLISHED
        survey.published_at = survey.published_at or timezone.now()
        if survey.closes_at and survey.closes_at <= timezone.now():
            raise DomainError(_("The closing time is in the past."), code="closes_in_past")
        survey.save(update_fields=["status", "published_at", "updated_at"])
    return survey


def survey_close(*, actor: Membership, survey_id: str) -> Survey:
    """Close a published survey now: it stops taking answers and edits."""
    with transaction.atomic():
        survey = lock_rows(Survey.objects.filter(pk=survey_id)).first()
        if survey is None or survey.community_id != actor.community_id:
            raise NotFound(_("Survey not found."))
        if not can(actor, Action.MANAGE_SURVEYS):
            raise Forbidden(_("Only moderators can close surveys."), code="tier_too_low")
        if survey.status != SurveyStatus.PUBLISHED:
            raise Conflict(_("Only a published survey can be closed."), code="not_published")
        survey.status = SurveyStatus.CLOSED
        survey.save(update_fields=["status", "updated_at"])
        if survey.anonymous:
            queue_mix(survey.pk)  # the last batch, even below k
    return survey


def _remap_condition(condition: Any, ids: dict[str, str]) -> Any:
    """A copied condition with old question/choice ids replaced by the copies' ids."""
    if not isinstance(condition, dict):
        return condition
    rules = []
    for rule in condition.get("rules") or []:
        if isinstance(rule, dict):
            rule = dict(rule)
            rule["question_id"] = ids.get(rule.get("question_id"), rule.get("question_id"))
            value = rule.get("value")
            if isinstance(value, str):
                rule["value"] = ids.get(value, value)
        rules.append(rule)
    return {**condition, "rules": rules}


def survey_duplicate(*, actor: Membership, survey_id: str) -> Survey:
    """Copy a survey (as a new draft) with its pages, questions, choices and logic; the
    conditions of the copy refer to the copied questions and choices. Moderators only: the
    copy carries every question, whatever the survey's state."""
    ensure(actor, Action.VIEW)
    survey = Survey.objects.filter(pk=survey_id, community_id=actor.community_id).first()
    if survey is None:
        raise NotFound(_("Survey not found."))
    ensure(actor, Action.MANAGE_SURVEYS)
    with transaction.atomic():
        copy = Survey.objects.get(pk=survey.pk)
        copy.pk = None
        copy.id = Survey._meta.get_field("id").default()
        copy.title = _("%(title)s (copy)") % {"title": survey.title}
        copy.status = SurveyStatus.DRAFT
        copy.submitted_count = 0
        copy.version = 1
        copy.published_at = None
        copy.created_at = timezone.now()
        copy.author = actor.user if actor.user.pk else survey.author
        copy.save(force_insert=True)
        ids: dict[str, str] = {}
        pages = list(Page.objects.filter(community_id=survey.community_id, survey=survey))
        questions = list(Question.objects.filter(community_id=survey.community_id, survey=survey))
        choices = list(Choice.objects.filter(community_id=survey.community_id, survey=survey))
        id_default = Page._meta.get_field("id").default
        for row in [*pages, *questions, *choices]:
            ids[row.id] = id_default()
        new_pages = [
            Page(
                id=ids[p.id],
                community_id=copy.community_id,
                survey=copy,
                order=p.order,
                title=p.title,
                description=p.description,
                condition=_remap_condition(p.condition, ids),
            )
            for p in pages
        ]
        Page.objects.bulk_create(new_pages)
        new_questions = []
        for q in questions:
            q.pk = ids[q.id]
            q.id = q.pk
            q.survey = copy
            q.page_id = ids.get(q.page_id) if q.page_id else None
            q.condition = _remap_condition(q.condition, ids)
            new_questions.append(q)
        Question.objects.bulk_create(new_questions)
        for c in choices:
            c.id = ids[c.id]
            c.survey = copy
            c.question_id = ids[c.question_id]
        Choice.objects.bulk_create(choices)
    return copy
