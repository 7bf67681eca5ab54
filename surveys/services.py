"""Every write of the surveys app: authoring actions, drafts, submissions, edits, exports.

Lock order (always): the member's participation row, then their response row, then -- only
in ``response_submit``, as the very last statement before COMMIT -- the survey row, through
the conditional ``UPDATE`` that counts the submission against the response cap. Taking the
hot, shared lock last keeps it held only for the commit, so submissions to one survey
serialize for microseconds, not for the whole transaction.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.files import File
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework.exceptions import ErrorDetail
from rest_framework.exceptions import ValidationError as ApiValidationError

from community.authz import Action, can, ensure
from community.errors import Conflict, DomainError, Forbidden, NotFound
from community.locking import lock_rows, lock_sql
from community.models import Membership, User
from community.timezones import localize
from surveys.definition import build_definition, definition_for
from surveys.engine import (
    NON_FIELD_ERRORS,
    CleanResult,
    DefinitionError,
    QuestionType,
    SurveyDefinition,
    check_definition,
    clean_response,
)
from surveys.models import (
    Answer,
    Choice,
    Export,
    ExportFormat,
    ExportStatus,
    Page,
    Participation,
    Question,
    Response,
    ResponseStatus,
    Survey,
    SurveyState,
    SurveyStatus,
    export_storage,
    hash_edit_token,
    new_edit_token,
)


# --- errors ---------------------------------------------------------------------------------
class DefinitionInvalid(DomainError):
    """The survey's definition does not pass ``check_definition``; ``errors`` lists why."""

    default_code = "invalid_definition"

    def __init__(self, errors: list[DefinitionError]):
        super().__init__(
            _("The survey cannot be published: %(count)d problem(s) in its questions.")
            % {"count": len(errors)}
        )
        self.errors = errors


def _raise_answer_errors(result: CleanResult) -> None:
    """Raise a 400 whose error ``attr`` names the question: ``answers.<question id>``."""
    if result.is_valid:
        return
    detail = {}
    for key, messages in result.errors.items():
        attr = "answers" if key == NON_FIELD_ERRORS else f"answers.{key}"
        detail[attr] = [ErrorDetail(message, code="invalid_answer") for message in messages]
    raise ApiValidationError(detail)


def _refuse_unless_accepting(survey: Survey, *, editing: bool = False) -> None:
    """409 unless the survey takes answers now (an edit of a submitted response is also
    fine when the survey is full, since it adds nothing)."""
    state = survey.state()
    if state == SurveyState.OPEN or (editing and state == SurveyState.FULL):
        return
    if state == SurveyState.FULL:
        raise Conflict(_("This survey has reached its response limit."), code="survey_full")
    if state == SurveyState.SCHEDULED:
        raise Conflict(_("This survey is not open yet."), code="survey_not_open")
    raise Conflict(_("This survey is closed."), code="survey_closed")


def respondent_key(*, survey: Survey, user: User) -> str:
    """Stable per (survey, member) key for shuffling choices. An HMAC, so it reveals nothing
    about the member; never stored for anonymous surveys."""
    message = f"{survey.pk}:{user.pk}".encode()
    return hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).hexdigest()[:32]


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
        if not can(actor, Action.MODERATE):
            raise Forbidden(_("Only moderators can publish surveys."), code="tier_too_low")
        if survey.status == SurveyStatus.PUBLISHED:
            raise Conflict(_("This survey is already published."), code="already_published")
        errors = survey_check(survey=survey)
        if not Question.objects.filter(community_id=survey.community_id, survey=survey).exists():
            raise DomainError(_("Add at least one question first."), code="no_questions")
        if errors:
            raise DefinitionInvalid(errors)
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
        if not can(actor, Action.MODERATE):
            raise Forbidden(_("Only moderators can close surveys."), code="tier_too_low")
        if survey.status != SurveyStatus.PUBLISHED:
            raise Conflict(_("Only a published survey can be closed."), code="not_published")
        survey.status = SurveyStatus.CLOSED
        survey.save(update_fields=["status", "updated_at"])
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
    conditions of the copy refer to the copied questions and choices."""
    survey = Survey.objects.filter(pk=survey_id, community_id=actor.community_id).first()
    if survey is None:
        raise NotFound(_("Survey not found."))
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


# --- responses (API) -----------------------------------------------------------------------
@dataclass
class ResponseResult:
    """A saved response, plus the raw edit token when one was just issued (anonymous)."""

    response: Response
    new_token: str | None = None


def _participation(*, survey: Survey, user: User, lock: bool) -> Participation | None:
    # Hand-written SQL: this runs on every draft save and submission, and compiling the
    # ORM query costs more CPU than PostgreSQL spends running it.
    sql = (
        f"SELECT * FROM {Participation._meta.db_table} "  # noqa: S608 (no input in the SQL)
        "WHERE community_id = %s AND survey_id = %s AND user_id = %s"
    )
    if lock:
        sql += lock_sql()
    rows = list(Participation.objects.raw(sql, [survey.community_id, survey.pk, user.pk]))
    return rows[0] if rows else None


def _locked_participation(*, survey: Survey, user: User) -> Participation:
    """The member's participation row, created if needed, locked until the end of the
    transaction; parallel requests of one member queue here. Call inside ``atomic``."""
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


def _anonymous_response(*, survey: Survey, token: str | None, status: str) -> Response | None:
    if not token:
        return None
    return (
        lock_rows(Response.objects.all())
        .filter(
            community_id=survey.community_id,
            survey=survey,
            edit_token_hash=hash_edit_token(token),
            status=status,
        )
        .first()
    )


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
    """The member's stored draft (anonymous: the one matching ``token``), or None."""
    return _my_response(survey=survey, user=user, token=token, status=ResponseStatus.DRAFT)


def response_get_submitted(*, survey: Survey, user: User, token: str | None) -> Response | None:
    """The member's latest submitted response (anonymous: the one matching ``token``)."""
    return _my_response(survey=survey, user=user, token=token, status=ResponseStatus.SUBMITTED)


def _draft_for_update(
    *, survey: Survey, user: User, participation: Participation, token: str | None
) -> tuple[Response, str | None]:
    """The member's draft, locked, or a new unsaved response (with the anonymous edit token to
    hand out, if any). Call inside the transaction that holds ``participation``'s lock."""
    if survey.anonymous:
        response = _anonymous_response(survey=survey, token=token, status=ResponseStatus.DRAFT)
    elif participation.draft_id:
        response = lock_rows(Response.objects.filter(pk=participation.draft_id)).get()
    else:
        response = None
    if response is None:
        return _new_response(survey=survey, user=user)
    return response, None


def response_save_draft(
    *, membership: Membership, survey: Survey, answers: Any, token: str | None = None
) -> ResponseResult:
    """Save the member's server-side draft (partial validation: incomplete is fine, wrong is
    not). Refused when the survey does not take answers, or when the member already
    submitted and the survey allows one response (they edit it instead)."""
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
        response, token_out = _draft_for_update(
            survey=survey, user=user, participation=participation, token=token
        )
        response.answers = result.to_json()
        response.updated_at = now
        response.save()
        if participation.status != ResponseStatus.SUBMITTED:
            participation.status = ResponseStatus.DRAFT
        if not survey.anonymous:
            participation.draft = response
        participation.save(update_fields=["status", "submissions", "draft", "submitted"])
    return ResponseResult(response, token_out)


def _check_participant(membership: Membership, survey: Survey) -> None:
    """Defensive: views pass the membership from ``require(..., Action.PARTICIPATE)``,
    which already gave the precise 404/403."""
    if membership.community_id != survey.community_id:
        raise NotFound(_("Survey not found."))
    ensure(membership, Action.PARTICIPATE)


def _refuse_second_response(survey: Survey, participation: Participation | None) -> None:
    if participation and participation.submissions and not survey.allow_multiple_responses:
        raise Conflict(
            _("You have already answered this survey."),
            code="already_submitted",
        )


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
    submissions and a refused submission saves nothing."""
    _check_participant(membership, survey)
    _refuse_unless_accepting(survey)
    user = membership.user
    if answers is None:
        draft = response_get_draft(survey=survey, user=user, token=token)
        answers = draft.answers if draft else {}
    definition = definition_for(survey)
    result = clean_response(definition, answers, partial=False, gettext=_)
    _raise_answer_errors(result)
    now = timezone.now()
    with transaction.atomic():
        participation = _locked_participation(survey=survey, user=user)
        _refuse_second_response(survey, participation)
        response, token_out = _draft_for_update(
            survey=survey, user=user, participation=participation, token=token
        )
        response.answers = result.to_json()
        response.status = ResponseStatus.SUBMITTED
        response.updated_at = now
        response.submitted_at = now
        response.save(force_insert=response._state.adding)
        _write_answer_rows(survey, definition, response, result.values, replace=False)
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {Participation._meta.db_table} SET status = %s, "  # noqa: S608
                "submissions = submissions + 1, draft_id = NULL, submitted_id = %s WHERE id = %s",
                [
                    ResponseStatus.SUBMITTED,
                    None if survey.anonymous else response.pk,
                    participation.pk,
                ],
            )
        # Last statement before COMMIT, so the survey row is locked as briefly as possible.
        survey.submitted_count = _count_submission(survey, now)
    return ResponseResult(response, token_out)


def _count_submission(survey: Survey, now) -> int:
    """Count one submission, only while the survey is open and under its cap.

    One conditional ``UPDATE``: it row-locks the survey until COMMIT, and
    PostgreSQL re-checks the ``WHERE`` on the latest row version after waiting for a
    concurrent submitter's lock, so the cap can never be passed (the check constraint
    ``survey_cap_not_exceeded`` backs this up). When nothing is updated the caller's
    transaction is rolled back by the :class:`Conflict` raised here: nothing is saved.
    Precondition: called inside ``transaction.atomic`` after every other write.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Survey._meta.db_table} SET submitted_count = submitted_count + 1 "  # noqa: S608
            "WHERE id = %s AND status = %s "
            "AND (opens_at IS NULL OR opens_at <= %s) AND (closes_at IS NULL OR closes_at > %s) "
            "AND (response_cap IS NULL OR submitted_count < response_cap)",
            [survey.pk, SurveyStatus.PUBLISHED, now, now],
        )
        counted = cursor.rowcount
    if counted:
        return survey.submitted_count + 1
    latest = Survey.objects.get(pk=survey.pk)
    _refuse_unless_accepting(latest)
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
    with transaction.atomic():
        if survey.anonymous:
            response = _anonymous_response(
                survey=survey, token=token, status=ResponseStatus.SUBMITTED
            )
        else:
            participation = _participation(survey=survey, user=membership.user, lock=True)
            response = None
            if participation and participation.submitted_id:
                response = lock_rows(Response.objects.filter(pk=participation.submitted_id)).get()
        if response is None:
            raise NotFound(_("You have no submitted response to this survey."), code="no_response")
        response.answers = result.to_json()
        response.updated_at = timezone.now()
        response.save(update_fields=["answers", "updated_at"])
        _write_answer_rows(survey, definition, response, result.values, replace=True)
    return response


def _write_answer_rows(
    survey: Survey,
    definition: SurveyDefinition,
    response: Response,
    values: dict[str, Any],
    *,
    replace: bool,
) -> None:
    """Mirror the cleaned values of a submitted response into ``Answer`` rows.

    One multi-row ``INSERT`` built directly: this runs on every submission, and model
    instances plus ``bulk_create`` cost several times more than the statement itself.
    """
    if replace:
        Answer.objects.filter(community_id=survey.community_id, response=response).delete()
    questions = definition.question_map()
    rows: list[tuple] = []
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
    if not rows:
        return
    table = Answer._meta.db_table
    columns = (
        "community_id, survey_id, response_id, question_id, choice_id, row_id, number, text, date"
    )
    if connection.vendor == "postgresql":
        # Six array parameters instead of nine placeholders per row: far less to bind.
        q_ids, choice_ids, row_ids, numbers, texts, dates = (
            list(c) for c in zip(*rows, strict=True)
        )
        sql = (
            f"INSERT INTO {table} ({columns}) SELECT %s, %s, %s, * FROM unnest("  # noqa: S608
            "%s::varchar[], %s::varchar[], %s::varchar[], %s::numeric[], %s::text[], %s::date[])"
        )
        params: list[Any] = [
            survey.community_id,
            survey.pk,
            response.pk,
            q_ids,
            choice_ids,
            row_ids,
            numbers,
            texts,
            dates,
        ]
    else:
        sql = f"INSERT INTO {table} ({columns}) VALUES " + ", ".join(  # noqa: S608
            ["(%s, %s, %s, %s, %s, %s, %s, %s, %s)"] * len(rows)
        )
        params = []
        ops = connection.ops
        for question_id, choice_id, row_id, number, text, day in rows:
            params += [
                survey.community_id,
                survey.pk,
                response.pk,
                question_id,
                choice_id,
                row_id,
                ops.adapt_decimalfield_value(number, 30, 10) if number is not None else None,
                text,
                ops.adapt_datefield_value(day),
            ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


# --- exports --------------------------------------------------------------------------------
def _queue_export(export_id: str) -> None:
    """Queue the export's task once the transaction commits. ``robust``: a broker outage
    after COMMIT must not turn a request that succeeded into an error (or skip the other
    after-commit work); the export stays pending and ``exports_sweep`` queues it again."""
    from surveys.tasks import run_export

    transaction.on_commit(lambda: run_export.delay(export_id), robust=True)


def export_request(*, actor: Membership, survey_id: str, format: str) -> Export:
    """Create an export of the survey's submitted responses and queue the task after
    commit (the task loads the row by id)."""
    if format not in ExportFormat.values:
        raise DomainError(_("Unknown export format."), code="invalid_format", field="format")
    survey = Survey.objects.filter(pk=survey_id, community_id=actor.community_id).first()
    if survey is None:
        raise NotFound(_("Survey not found."))
    export = Export.objects.create(
        community_id=survey.community_id,
        survey=survey,
        requested_by=actor.user if actor.user.pk else None,
        format=format,
    )
    _queue_export(export.pk)
    return export


def _export_lease() -> timedelta:
    return timedelta(minutes=settings.EXPORT_LEASE_MINUTES)


def export_run(*, export_id: str) -> str:
    """Write the export file. Streams the responses with a server-side cursor and writes row
    by row (see ``surveys.exports``).

    Safe to run twice: the worker claims a pending export (or a running one whose worker
    fell silent past the lease) under a row lock, so two deliveries of one message do not
    write at once, and a finished export is left alone. It then works for the attempt it
    claimed: if the sweep has queued the export again meanwhile, this run's file is thrown
    away ("superseded"). A storage error (``OSError``) puts the export back to pending for
    the task's retry; any other error fails it."""
    from surveys.exports import ExportSuperseded, write_export

    now = timezone.now()
    with transaction.atomic():
        export = (
            Export.objects.select_for_update(no_key=True)
            .filter(pk=export_id)
            .filter(
                Q(status=ExportStatus.PENDING)
                | Q(status=ExportStatus.RUNNING, heartbeat_at__lt=now - _export_lease())
            )
            .first()
        )
        if export is None:
            return "skipped"
        export.status = ExportStatus.RUNNING
        export.rows_done = 0
        export.heartbeat_at = now
        export.save(update_fields=["status", "rows_done", "heartbeat_at"])
    mine = Export.objects.filter(pk=export_id, attempts=export.attempts)
    export.survey = Survey.objects.select_related("community").get(pk=export.survey_id)
    try:
        write_export(export)
    except ExportSuperseded:
        return "superseded"
    except OSError:
        mine.filter(status=ExportStatus.RUNNING).update(
            status=ExportStatus.PENDING, heartbeat_at=timezone.now()
        )
        raise
    except Exception as exc:
        mine.update(status=ExportStatus.FAILED, error=str(exc)[:2000], finished_at=timezone.now())
        raise
    return "done"


def exports_sweep(*, now: datetime | None = None, limit: int = 200) -> dict[str, int]:
    """The periodic clean-up of exports (beat, every few minutes):

    * an export pending or running but silent past ``EXPORT_LEASE_MINUTES`` lost its task
      (broker outage, worker killed): it is queued again, as a new attempt, until it was
      queued ``EXPORT_MAX_ATTEMPTS`` times; then it fails with a message saying so;
    * a finished export older than ``EXPORT_RETENTION_DAYS`` has its file deleted and
      becomes ``expired`` (member data is not kept longer than needed).

    Rows are claimed with ``SKIP LOCKED``, so sweeps running at once never queue one export
    twice, and a worker claiming an export at that moment is not waited for."""
    now = now or timezone.now()
    stale = Export.objects.filter(
        status__in=[ExportStatus.PENDING, ExportStatus.RUNNING],
        heartbeat_at__lt=now - _export_lease(),
    )
    with transaction.atomic():
        given_up = list(
            stale.filter(attempts__gte=settings.EXPORT_MAX_ATTEMPTS)
            .select_for_update(no_key=True, skip_locked=True)
            .values_list("pk", flat=True)[:limit]
        )
        failed = Export.objects.filter(pk__in=given_up).update(
            status=ExportStatus.FAILED,
            error=_("The export did not finish after %(count)d attempts.")
            % {"count": settings.EXPORT_MAX_ATTEMPTS},
            finished_at=now,
        )
        retry = list(
            stale.filter(attempts__lt=settings.EXPORT_MAX_ATTEMPTS)
            .select_for_update(no_key=True, skip_locked=True)
            .values_list("pk", flat=True)[:limit]
        )
        requeued = Export.objects.filter(pk__in=retry).update(
            status=ExportStatus.PENDING, attempts=F("attempts") + 1, heartbeat_at=now, rows_done=0
        )
        for export_id in retry:
            _queue_export(export_id)
    expired = 0
    cutoff = now - timedelta(days=settings.EXPORT_RETENTION_DAYS)
    old = Export.objects.filter(status=ExportStatus.DONE, finished_at__lt=cutoff)
    for export_id, name in old.values_list("pk", "file")[:limit]:
        # Mark first, then delete: a download already streaming keeps its open file, and no
        # download starts on a file that is gone.
        if Export.objects.filter(pk=export_id, status=ExportStatus.DONE).update(
            status=ExportStatus.EXPIRED, file=""
        ):
            expired += 1
            if name:
                export_storage().delete(name)
    return {"requeued": requeued, "failed": failed, "expired": expired}


def export_file(*, actor: Membership | None, survey_id: str, export_id: str) -> tuple[File, str]:
    """The finished export's file, opened for streaming, and the name to download it as.

    Export files hold members' answers: only moderators and above of the survey's community
    get them (the same tier that may request an export); everyone else gets 404."""
    ensure(actor, Action.MODERATE)
    export = (
        Export.objects.filter(
            pk=export_id,
            survey_id=survey_id,
            community_id=actor.community_id,
            status=ExportStatus.DONE,
        )
        .select_related("survey__community")
        .first()
    )
    if export is None or not export.file:
        raise NotFound(_("Export not found."))
    created = localize(export.created_at, export.survey.community)
    name = f"{export.survey.title}-{created:%Y%m%d-%H%M}.{export.format}"
    return export.file.open("rb"), name
