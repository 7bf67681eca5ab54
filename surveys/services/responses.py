"""Members' responses: submissions and edits (saving a draft: ``surveys.services.drafts``).

Lock order (always): the member's participation row, then their response row, then -- only
in ``response_submit``, as the very last part of the last statement before COMMIT -- the
survey row, through the conditional ``UPDATE`` that counts the submission against the response
cap (``response_store._writes_then_count`` makes it run after the writes of its statement).
Taking the hot, shared lock last keeps it held only for the commit, so submissions to one
survey serialize for the commit, not for the whole transaction.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, NamedTuple

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from community.authz import Action, ensure
from community.errors import Conflict, NotFound
from community.locking import lock_rows
from community.models import Membership, User
from insights.recording import activity_record
from surveys import response_store
from surveys.definition import definition_for
from surveys.draft_box import draft_open
from surveys.engine import (
    QuestionType,
    SurveyDefinition,
    clean_response,
)
from surveys.models import (
    Answer,
    Participation,
    Response,
    ResponseStatus,
    SealedResponse,
    Survey,
    draft_lookup,
    hash_edit_token,
    new_edit_token,
)
from surveys.response_store import AnswerRow
from surveys.services.common import _raise_answer_errors, _refuse_unless_accepting, respondent_key
from surveys.services.mixing import (
    queue_mix,
    queue_mix_when_full,
    response_seal,
    response_waiting,
    sealed_response,
)
from surveys.services.quiz import quiz_score_submission


# --- responses (API) -----------------------------------------------------------------------
@dataclass
class ResponseResult:
    """A saved response, plus the raw edit token when one was just issued (anonymous)."""

    response: Response
    new_token: str | None = None


def _participation(*, survey: Survey, user: User, lock: bool) -> Participation | None:
    return response_store.participation_row(survey=survey, user=user, lock=lock)


def _locked_participation(*, survey: Survey, user: User) -> Participation:
    """The member's participation row, created if needed, locked until the end of the
    transaction; parallel requests of one member queue here. Call inside ``atomic``."""
    participation = response_store.participation_lock(survey=survey, user=user)
    if participation is not None:  # PostgreSQL: found or created, locked, in one statement
        return participation
    participation = _participation(survey=survey, user=user, lock=True)
    if participation is not None:
        return participation
    try:
        with transaction.atomic():
            return Participation.objects.create(
                community_id=survey.community_id,
                survey=survey,
                user=user,
                anonymous=survey.anonymous,
            )
    except IntegrityError:  # a parallel request of the same member created it first
        return lock_rows(
            Participation.objects.filter(community_id=survey.community_id, survey=survey, user=user)
        ).get()


def _new_response(*, survey: Survey, user: User) -> tuple[Response, str | None]:
    now = timezone.now()
    response = Response(community_id=survey.community_id, survey=survey, created_at=now)
    token = None
    if survey.anonymous:
        token, response.edit_token_hash = new_edit_token()
    else:
        response.respondent = user
        response.respondent_key = respondent_key(survey=survey, user=user)
    return response, token


def _my_response(*, survey: Survey, user: User, token: str | None, status: str) -> Response | None:
    """The member's response in ``status`` (anonymous: the one matching ``token``), or None."""
    if survey.anonymous:
        if not token:
            return None
        return Response.objects.filter(
            community_id=survey.community_id,
            survey=survey,
            edit_token_hash=hash_edit_token(token),
            status=status,
        ).first()
    link = "draft" if status == ResponseStatus.DRAFT else "submitted"
    participation = (
        Participation.objects.filter(community_id=survey.community_id, survey=survey, user=user)
        .select_related(link)
        .first()
    )
    return getattr(participation, link) if participation else None


def response_get_draft(*, survey: Survey, user: User, token: str | None) -> Response | None:
    """The member's stored draft (anonymous: the sealed one of ``token``, opened), or None."""
    if survey.anonymous:
        return draft_open(survey=survey, token=token)
    return _my_response(survey=survey, user=user, token=token, status=ResponseStatus.DRAFT)


def response_get_submitted(*, survey: Survey, user: User, token: str | None) -> Response | None:
    """The member's latest submitted response (anonymous: the one matching ``token``, still
    waiting in the box or mixed)."""
    if survey.anonymous and token:
        waiting = response_waiting(survey=survey, token=token)
        if waiting is not None:
            return waiting
    return _my_response(survey=survey, user=user, token=token, status=ResponseStatus.SUBMITTED)


def _draft_for_update(
    *, survey: Survey, user: User, participation: Participation, token: str | None
) -> tuple[Response, str | None]:
    """The member's draft of a named survey, locked, or a new unsaved response. Call inside
    the transaction that holds ``participation``'s lock. (Anonymous drafts are sealed:
    ``surveys.draft_box``.)"""
    if participation.draft_id:
        response = lock_rows(Response.objects.filter(pk=participation.draft_id)).get()
    else:
        response = None
    if response is None:
        return _new_response(survey=survey, user=user)
    return response, None


@contextmanager
def _atomic_answers(*, transaction_around: bool = True) -> Iterator[None]:
    """``transaction.atomic`` for writing a submitted response's answer rows (not with
    ``transaction_around`` False: one statement, undone whole by the database when it fails).
    The database checks that they name a response of their survey and community (a trigger,
    see ``Answer``); should that ever fail, the response is refused whole with a 409 instead
    of a 500. (A question or choice deleted after the response was validated is caught
    before: see :func:`_count_submission`.)"""
    try:
        with transaction.atomic() if transaction_around else nullcontext():
            yield
    except IntegrityError as exc:
        raise _survey_changed() from exc


def _check_participant(membership: Membership, survey: Survey) -> None:
    """Defensive: views pass the membership from ``require(..., Action.PARTICIPATE)``,
    which already gave the precise 404/403."""
    if membership.community_id != survey.community_id:
        raise NotFound(_("Survey not found."))
    ensure(membership, Action.PARTICIPATE)


def _already_submitted() -> Conflict:
    return Conflict(_("You have already answered this survey."), code="already_submitted")


def _refuse_second_response(survey: Survey, participation: Participation | None) -> None:
    if participation and participation.submissions and not survey.allow_multiple_responses:
        raise _already_submitted()


def response_submit(
    *,
    membership: Membership,
    survey: Survey,
    answers: Any | None,
    token: str | None = None,
) -> ResponseResult:
    """Validate the whole response and submit it (``answers=None`` submits the stored
    draft). The submission is counted last, under the survey row lock (see
    :func:`_count_submission`), so the response cap is never exceeded by parallel
    submissions and a refused submission saves nothing.

    When an author changed the definition between this request's reading of the survey and
    its count (the guard sees another ``version``), nothing was saved: ``survey`` is read
    again and the answers validated once more against the new definition. A reworded choice
    goes through; answers it no longer accepts (a question or choice was deleted) are a 409
    ``survey_changed``."""
    _check_participant(membership, survey)
    _refuse_unless_accepting(survey)
    user = membership.user
    if answers is None:
        draft = response_get_draft(survey=survey, user=user, token=token)
        if draft is None:
            # Nothing stored to submit: a member who already answered is told so (409
            # ``already_submitted``) rather than that every required answer is missing.
            _refuse_second_response(survey, _participation(survey=survey, user=user, lock=False))
        answers = draft.answers if draft else {}
    try:
        return _validated_submit(membership, survey, answers, token=token)
    except _DefinitionChanged:
        survey.refresh_from_db()
        _refuse_unless_accepting(survey)
        try:
            return _validated_submit(membership, survey, answers, token=token, again=True)
        except _DefinitionChanged:
            raise _survey_changed() from None


class _DefinitionChanged(Exception):
    """The guarded count refused a submission validated against an older definition."""


def _survey_changed() -> Conflict:
    return Conflict(
        _("This survey changed while you were answering it; reload it and try again."),
        code="survey_changed",
    )


def _validated_submit(
    membership: Membership, survey: Survey, answers: Any, *, token: str | None, again: bool = False
) -> ResponseResult:
    """:func:`response_submit` from validation on (``again``: after the definition changed,
    where answers it refuses are a 409 ``survey_changed``)."""
    user = membership.user
    definition = definition_for(survey)
    result = clean_response(definition, answers, partial=False, gettext=_)
    if again and not result.is_valid:
        raise _survey_changed()
    _raise_answer_errors(result)
    now = timezone.now()
    if survey.quiz_mode or not response_store.submits_at_once():
        with _atomic_answers():
            response, token_out, outcome = _submit_in_steps(
                survey, membership, definition, result, token=token, now=now
            )
            _counted(survey, user, outcome)
    else:
        # One statement, which PostgreSQL undoes whole when it is refused: no transaction.
        with _atomic_answers(transaction_around=False):
            response, token_out, outcome = _submit_at_once(
                survey, user, definition, result, token=token, now=now
            )
        _counted(survey, user, outcome)
    return ResponseResult(response, token_out)


def _counted(survey: Survey, user: User, outcome: response_store.SubmitOutcome) -> None:
    """After the writes: the survey's new count (or 409: see :func:`_count_submission`), the
    activity, and the mix when this response completed a batch (both after the commit)."""
    survey.submitted_count = _count_submission(survey, counted=outcome.counted)
    activity_record(community_id=survey.community_id, user_id=user.pk, kind="answer")
    if survey.anonymous:
        queue_mix_when_full(survey, waiting=outcome.waiting)


def _submit_at_once(
    survey: Survey,
    user: User,
    definition: SurveyDefinition,
    result: Any,
    *,
    token: str | None,
    now: datetime,
) -> tuple[Response, str | None, response_store.SubmitOutcome]:
    """PostgreSQL, surveys other than quizzes: the whole submission in one statement
    (``response_store.submission_at_once``: the member's participation locked and checked,
    the response -- over the member's draft if there is one -- or the sealed response, the
    answer rows, the guarded count). Returns the response to show back, the new edit token
    (anonymous) and what the statement did (counted or not, how many wait in the box)."""
    parts = _submission(survey, user, definition, result, token=token, now=now)
    outcome = response_store.submission_at_once(
        survey=survey,
        user=user,
        response=parts.written,
        sealed=parts.sealed,
        rows=parts.rows,
        now=now,
        discard_draft=parts.discard_draft,
    )
    if not outcome.written:
        raise _already_submitted()
    if parts.written is not None:
        parts.written.pk = outcome.response_id  # the member's draft's id when there was one
        parts.written._state.adding = False
    return parts.shown, parts.token, outcome


def _submit_in_steps(
    survey: Survey,
    membership: Membership,
    definition: SurveyDefinition,
    result: Any,
    *,
    token: str | None,
    now: datetime,
) -> tuple[Response, str | None, response_store.SubmitOutcome]:
    """Quizzes (scored once the participation is locked and before anything is written) and
    databases other than PostgreSQL: lock the participation, refuse a second response, write
    (``response_store.submission_record``: one statement on PostgreSQL). Returns what
    :func:`_submit_at_once` does."""
    user = membership.user
    participation = _locked_participation(survey=survey, user=user)
    _refuse_second_response(survey, participation)
    if survey.quiz_mode:  # a column of the loaded row: no query for other surveys
        quiz_score_submission(survey=survey, membership=membership, values=result.values, now=now)
    parts = _submission(
        survey, user, definition, result, token=token, now=now, participation=participation
    )
    # The writes, then -- the last statement before COMMIT, so the survey row is locked as
    # briefly as possible -- the guarded count.
    outcome = response_store.submission_record(
        survey=survey,
        participation_id=participation.pk,
        response=parts.written,
        sealed=parts.sealed,
        rows=parts.rows,
        now=now,
        discard_draft=parts.discard_draft,
    )
    return parts.shown, parts.token, outcome


class _Submission(NamedTuple):
    """What a submission writes: a named response (``written``) and its answer rows, or an
    anonymous one sealed (``sealed``) with the look-up of the member's sealed draft to delete;
    the response shown back and the new edit token (anonymous)."""

    shown: Response
    token: str | None
    written: Response | None
    rows: list[AnswerRow]
    sealed: SealedResponse | None
    discard_draft: str | None


def _submission(
    survey: Survey,
    user: User,
    definition: SurveyDefinition,
    result: Any,
    *,
    token: str | None,
    now: datetime,
    participation: Participation | None = None,
) -> _Submission:
    """The rows of a submission. A named one writes a new response, or over the member's draft
    when ``participation`` (locked) points at one; without ``participation`` the statement
    decides that (``response_store.submission_at_once``)."""
    if survey.anonymous:
        shown, token_out, sealed = _seal_submission(survey, definition, result, now)
        discard = draft_lookup(token) if token else None
        return _Submission(shown, token_out, None, [], sealed, discard)
    if participation is None:
        response, token_out = _new_response(survey=survey, user=user)
    else:
        response, token_out = _submitted_draft(
            survey=survey, user=user, participation=participation
        )
    _set_submitted(response, survey=survey, result=result, now=now)
    return _Submission(
        response, token_out, response, answer_rows(definition, result.values), None, None
    )


def _set_submitted(response: Response, *, survey: Survey, result: Any, now: datetime) -> None:
    """What a submission sets on a named response (``response_store._SUBMIT_FIELDS``)."""
    response.answers = result.to_json()
    response.definition_version = survey.version
    response.status = ResponseStatus.SUBMITTED
    response.updated_at = now
    response.submitted_at = now


def _submitted_draft(
    *, survey: Survey, user: User, participation: Participation
) -> tuple[Response, str | None]:
    """The response a named submission writes: the member's draft (not read: the submit
    sets every field it changes, and the participation row locked by the caller guards the
    draft as every draft write locks it first), or a new unsaved response."""
    if participation.draft_id:
        response = Response(
            id=participation.draft_id,
            community_id=survey.community_id,
            survey=survey,
            respondent=user,
            respondent_key=respondent_key(survey=survey, user=user),
        )
        response._state.adding = False
        return response, None
    return _new_response(survey=survey, user=user)


def _seal_submission(
    survey: Survey, definition: SurveyDefinition, result: Any, now
) -> tuple[Response, str, SealedResponse]:
    """An anonymous submission: the response goes sealed into the survey's box
    (``surveys.services.mixing``) and the member's sealed draft is deleted (by
    ``response_store.submission_record``, in the same statement). A fresh edit token is
    handed out: the draft's token hash was written next to the participation, so the mixed
    response must not carry it. Returns the unsaved response (to show back), the new token and
    the unsaved sealed row (new, since the token is: ``submission_record`` inserts it)."""
    new_token, token_hash = new_edit_token()
    answers = result.to_json()
    sealed = sealed_response(
        survey=survey,
        token=new_token,
        token_hash=token_hash,
        answers=answers,
        rows=answer_rows(definition, result.values),
        at=now,
    )
    return _sealed_response_view(survey, answers, now), new_token, sealed


def _count_submission(survey: Survey, *, counted: bool) -> int:
    """The survey's new submission count, or 409 when the guarded count matched no row.

    ``response_store.submission_count`` is one conditional ``UPDATE``: it row-locks the
    survey until COMMIT, and PostgreSQL re-checks the ``WHERE`` on the latest row version
    after waiting for a concurrent submitter's lock, so the cap can never be passed (the
    check constraint ``survey_cap_not_exceeded`` backs this up). When nothing was updated,
    nothing is saved: the one statement undid itself (``response_store.submission_at_once``),
    or the caller's transaction is rolled back by what is raised here (a :class:`Conflict`,
    or :class:`_DefinitionChanged` when the guard saw another definition ``version``)."""
    if counted:
        return survey.submitted_count + 1
    latest = Survey.objects.get(pk=survey.pk)
    _refuse_unless_accepting(latest)
    if latest.version != survey.version:
        raise _DefinitionChanged
    raise Conflict(_("This survey has reached its response limit."), code="survey_full")


def response_edit(
    *, membership: Membership, survey: Survey, answers: Any, token: str | None = None
) -> Response:
    """Replace the answers of the member's submitted response (full validation), allowed
    until the survey closes when it has ``allow_edit_after_submit``."""
    _check_participant(membership, survey)
    if not survey.allow_edit_after_submit:
        raise Conflict(
            _("This survey does not allow changing answers after submitting."),
            code="editing_not_allowed",
        )
    _refuse_unless_accepting(survey, editing=True)
    definition = definition_for(survey)
    result = clean_response(definition, answers, partial=False, gettext=_)
    _raise_answer_errors(result)
    if survey.anonymous:
        return _edit_anonymous(survey, definition, result, token)
    with _atomic_answers():
        participation = _participation(survey=survey, user=membership.user, lock=True)
        response = None
        if participation and participation.submitted_id:
            response = lock_rows(Response.objects.filter(pk=participation.submitted_id)).get()
        if response is None:
            raise NotFound(_("You have no submitted response to this survey."), code="no_response")
        response.answers = result.to_json()
        response.definition_version = survey.version
        response.updated_at = timezone.now()
        response.save(update_fields=["answers", "definition_version", "updated_at"])
        _write_answer_rows(survey, definition, response, result.values, replace=True)
    return response


def _edit_anonymous(
    survey: Survey, definition: SurveyDefinition, result: Any, token: str | None
) -> Response:
    """An edit of an anonymous response goes through the box like the submission: it
    replaces the sealed response still waiting for ``token``, or seals a replacement of the
    mixed response whose ``edit_token_hash`` is the token's. Nothing plaintext is written."""
    now = timezone.now()
    with transaction.atomic():
        known = bool(token) and (
            response_waiting(survey=survey, token=token) is not None
            or Response.objects.filter(
                community_id=survey.community_id,
                survey=survey,
                status=ResponseStatus.SUBMITTED,
                edit_token_hash=hash_edit_token(token),
            ).exists()
        )
        if not known:
            raise NotFound(_("You have no submitted response to this survey."), code="no_response")
        answers = result.to_json()
        response_seal(
            survey=survey,
            token=token,
            token_hash=hash_edit_token(token),
            answers=answers,
            rows=answer_rows(definition, result.values),
            at=now,
        )
        queue_mix(survey.pk)
    return _sealed_response_view(survey, answers, now)


def _sealed_response_view(survey: Survey, answers: dict, now) -> Response:
    """An unsaved submitted response showing what was just sealed into the box: the member
    sees their answers at once, although the row is written only when the box is mixed."""
    return Response(
        community_id=survey.community_id,
        survey=survey,
        status=ResponseStatus.SUBMITTED,
        answers=answers,
        definition_version=survey.version,
        created_at=now,
        updated_at=now,
        submitted_at=now,
    )


def _write_answer_rows(
    survey: Survey,
    definition: SurveyDefinition,
    response: Response,
    values: dict[str, Any],
    *,
    replace: bool,
) -> None:
    """Mirror the cleaned values of a submitted response into ``Answer`` rows.

    One multi-row ``INSERT`` built directly (``response_store.answer_rows_insert``): this runs
    on every submission, and model instances plus ``bulk_create`` cost several times more than
    the statement itself.
    """
    if replace:
        Answer.objects.filter(community_id=survey.community_id, response=response).delete()
    rows = answer_rows(definition, values)
    if not rows:
        return
    response_store.answer_rows_insert(
        community_id=survey.community_id, survey_id=survey.pk, response_id=response.pk, rows=rows
    )


def answer_rows(definition: SurveyDefinition, values: dict[str, Any]) -> list[AnswerRow]:
    """The ``Answer`` rows (see ``response_store.AnswerRow``) of a response's cleaned values."""
    questions = definition.question_map()
    rows: list[AnswerRow] = []
    add = rows.append
    for question_id, value in values.items():
        kind = questions[question_id].type
        if kind in (QuestionType.SINGLE_CHOICE, QuestionType.DROPDOWN):
            add((question_id, value["choice"], None, None, value.get("other_text") or "", None))
        elif kind == QuestionType.MULTIPLE_CHOICE:
            other = value.get("other_text") or ""
            for choice_id in value["choices"]:
                add((question_id, choice_id, None, None, other, None))
        elif kind == QuestionType.RANKING:
            for rank, choice_id in enumerate(value, start=1):
                add((question_id, choice_id, None, Decimal(rank), "", None))
        elif kind == QuestionType.MATRIX:
            for row_id, point in value.items():
                add((question_id, None, row_id, Decimal(point), "", None))
        elif kind in (QuestionType.SHORT_TEXT, QuestionType.LONG_TEXT):
            add((question_id, None, None, None, value, None))
        elif kind == QuestionType.DATE:
            add((question_id, None, None, None, "", value))
        else:  # number, rating, nps, likert
            add((question_id, None, None, Decimal(value), "", None))
    return rows
