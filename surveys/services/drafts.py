"""Saving a member's server-side draft of a survey response.

Named surveys keep the draft as a ``Response`` row in status ``draft``, linked from the
member's participation. Anonymous surveys seal it (``surveys.draft_box``): the draft is saved
by the member's own transaction, next to their participation, so nothing readable may be in
it; the member resumes it on any device with the edit token handed out at the first save, and
submitting deletes it (``surveys.services.responses``).
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from community.models import Membership
from surveys.definition import definition_for
from surveys.draft_box import draft_exists, draft_put
from surveys.engine import clean_response
from surveys.models import ResponseStatus, Survey, new_edit_token
from surveys.services.common import _raise_answer_errors, _refuse_unless_accepting
from surveys.services.responses import (
    ResponseResult,
    _check_participant,
    _draft_for_update,
    _locked_participation,
    _refuse_second_response,
)


def response_save_draft(
    *, membership: Membership, survey: Survey, answers: Any, token: str | None = None
) -> ResponseResult:
    """Save the member's server-side draft (partial validation: incomplete is fine, wrong is
    not). Refused when the survey does not take answers, or when the member already
    submitted and the survey allows one response (they edit it instead).

    Anonymous surveys: the draft of ``token`` is replaced; without a token (or with one that
    names no draft) a new sealed draft is started and its token handed out."""
    _check_participant(membership, survey)
    _refuse_unless_accepting(survey)
    definition = definition_for(survey)
    result = clean_response(definition, answers, partial=True, gettext=_)
    _raise_answer_errors(result)
    user = membership.user
    now = timezone.now()
    with transaction.atomic():
        participation = _locked_participation(survey=survey, user=user)
        _refuse_second_response(survey, participation)
        if survey.anonymous:
            token_out = None
            if not token or not draft_exists(survey=survey, token=token):
                token = token_out = new_edit_token()[0]
            response = draft_put(
                survey=survey,
                token=token,
                answers=result.to_json(),
                version=survey.version,
                saved_at=now,
            )
        else:
            response, token_out = _draft_for_update(
                survey=survey, user=user, participation=participation, token=token
            )
            response.answers = result.to_json()
            response.definition_version = survey.version
            response.updated_at = now
            response.save()
            participation.draft = response
        if participation.status != ResponseStatus.SUBMITTED:
            participation.status = ResponseStatus.DRAFT
        participation.save(update_fields=["status", "submissions", "draft", "submitted"])
    return ResponseResult(response, token_out)
