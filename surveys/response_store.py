"""Hand-written SQL of the surveys hot path (draft save, submit, edit): the member's
participation row, the submission counted against the cap, the answer rows. Every statement
runs inside the caller's transaction; PostgreSQL gets the fastest form, other databases a
portable equivalent. Compiling the ORM query costs more CPU here than PostgreSQL spends
running it, which is why these few statements are written by hand and kept in one place; the
ones every submit runs are also prepared on the server (``community.db.prepared``)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import F, Value
from django.db.models.functions import Greatest

from community.db.prepared import prepared_cursor
from community.ids import new_public_id
from community.json_text import compact_json
from community.locking import lock_sql
from community.member_store import instance_from_row, select_list
from surveys.models import (
    Answer,
    Participation,
    Response,
    ResponseStatus,
    SealedDraft,
    SealedResponse,
    Survey,
    SurveyStatus,
)

#: One answer row: (question_id, choice_id, row_id, number, text, date).
AnswerRow = tuple[str, str | None, str | None, Decimal | None, str, Any]


def participation_row(*, survey: Survey, user: Any, lock: bool) -> Participation | None:
    """The member's participation in ``survey`` (row-locked until commit with ``lock``)."""
    sql = (
        f"SELECT * FROM {Participation._meta.db_table} "  # noqa: S608 (no input in the SQL)
        "WHERE community_id = %s AND survey_id = %s AND user_id = %s"
    )
    if lock:
        sql += lock_sql()
    rows = list(Participation.objects.raw(sql, [survey.community_id, survey.pk, user.pk]))
    return rows[0] if rows else None


def participation_lock(*, survey: Survey, user: Any) -> Participation | None:
    """PostgreSQL: the member's participation row, created if missing, row-locked until
    commit (``FOR NO KEY UPDATE`` strength, as ``lock_rows``), in one statement: parallel
    requests of one member queue here. The first answer of a member used to take four round
    trips (look up, savepoint, insert, release). The row is read with a plain cursor (no
    ``RawQuerySet``, whose column mapping cost more than the statement). None on other
    databases (the caller takes the portable path)."""
    if connection.vendor != "postgresql":
        return None
    params = [survey.community_id, survey.pk, user.pk, survey.anonymous, ResponseStatus.DRAFT]
    with prepared_cursor() as cursor:
        cursor.execute(_participation_lock_sql(), params)
        row = cursor.fetchone()
    return instance_from_row(Participation, row, "p")


@cache
def _participation_lock_sql() -> str:
    """Built on first use (the select list reads the connection's converters), then kept."""
    return (
        f"INSERT INTO {Participation._meta.db_table} AS p "  # noqa: S608 (no input in the SQL)
        "(community_id, survey_id, user_id, anonymous, status, submissions) "
        "VALUES (%s, %s, %s, %s, %s, 0) "
        "ON CONFLICT (community_id, survey_id, user_id) "
        f"DO UPDATE SET submissions = p.submissions RETURNING {select_list(Participation, 'p')}"
    )


def submission_record(
    *,
    survey: Survey,
    participation_id: int,
    response: Response | None,
    sealed: SealedResponse | None,
    rows: list[AnswerRow],
    now: datetime,
    discard_draft: str | None = None,
) -> SubmitOutcome:
    """Write a submission and count it, the member's participation being locked already
    (:func:`participation_lock`): the response (a new row, or the member's draft turned
    submitted) and its answer rows -- or, for an anonymous survey, the sealed response
    (``sealed``, always a new row: a submission gets a fresh token) and the deletion of the
    member's sealed draft (``discard_draft``: its look-up) --, one more submission on the
    participation, and the guarded count of :func:`submission_count`. ``counted`` False (the
    caller rolls back: the writes are in its transaction) when the survey stopped taking answers
    or is full.

    The steps a quiz takes (its scoring runs between the lock and this) and every submission
    on databases other than PostgreSQL; the others take :func:`submission_at_once`. On
    PostgreSQL all of it is ONE statement (data-modifying ``WITH``; the parts touch different
    rows, and the answers' scope is checked once for the statement: see ``Answer``): the
    survey row is locked by its last part and the transaction commits right after, so the hot
    lock is held only for the commit."""
    submitted_id = response.pk if response is not None else None
    if connection.vendor != "postgresql":
        if discard_draft is not None:
            SealedDraft.objects.filter(
                community_id=survey.community_id, survey_id=survey.pk, lookup=discard_draft
            ).delete()
        if sealed is not None:
            sealed.save(force_insert=True)
        else:
            if response._state.adding:
                response.save(force_insert=True)
            else:  # the draft: what a submission sets, its start time kept
                response.save(update_fields=_SUBMIT_FIELDS)
            if rows:
                answer_rows_insert(
                    community_id=survey.community_id,
                    survey_id=survey.pk,
                    response_id=response.pk,
                    rows=rows,
                )
        participation_mark_submitted(participation_id=participation_id, submitted_id=submitted_id)
        waiting = submission_count(survey=survey, now=now)
        return SubmitOutcome(
            written=True, counted=waiting is not None, response_id=submitted_id, waiting=waiting
        )
    params = _submission_params(survey, now, response=submitted_id)
    params["participation"] = participation_id
    parts = []
    if sealed is not None:
        parts.append(_insert_sql(sealed, params, source=""))
    elif response._state.adding:
        parts.append(_insert_sql(response, params, source=""))
    else:
        parts.append(_submit_draft_sql(response, params, where="r.id = %(response)s"))
    if sealed is None and rows:
        parts.append(_answers_sql("%(response)s", ""))
        params["rows"] = answer_rows_json(rows)
    if discard_draft is not None:
        parts.append(_DISCARD_DRAFT_SQL)
        params["discard"] = discard_draft
    parts.append(_MARK_SUBMITTED_SQL)
    ctes = _writes_then_count([(f"w{i}", sql) for i, sql in enumerate(parts)])
    with prepared_cursor() as cursor:
        cursor.execute(
            f"WITH {ctes} SELECT count(*), max(box_waiting) FROM counted",  # noqa: S608
            params,
        )
        counted, waiting = cursor.fetchone()
    if response is not None:
        response._state.adding = False
    return SubmitOutcome(
        written=True, counted=counted == 1, response_id=submitted_id, waiting=waiting
    )


@dataclass(frozen=True)
class SubmitOutcome:
    """What :func:`submission_at_once` or :func:`submission_record` did. ``written`` False:
    the member has answered already and the survey takes one response each (nothing was
    written). ``counted`` False: the survey stopped taking answers or is full (the caller rolls
    back). ``response_id``: the named response submitted -- the member's draft, or the new
    one. ``waiting``: once counted, how many responses wait in the survey's box, this one
    included (``Survey.box_waiting``; 0 for named surveys)."""

    written: bool
    counted: bool
    response_id: str | None
    waiting: int | None = None


def submits_at_once() -> bool:
    """Whether :func:`submission_at_once` runs here (PostgreSQL); elsewhere a submission
    takes the steps (:func:`participation_lock`, then :func:`submission_record`)."""
    return connection.vendor == "postgresql"


def submission_at_once(
    *,
    survey: Survey,
    user: Any,
    response: Response | None,
    sealed: SealedResponse | None,
    rows: list[AnswerRow],
    now: datetime,
    discard_draft: str | None = None,
) -> SubmitOutcome:
    """PostgreSQL: a whole submission in ONE statement, the member's participation included,
    run on its own: no transaction around it, so no ``BEGIN`` and ``COMMIT`` round trips.

    The participation row is created or updated by an upsert that takes its row lock (parallel
    requests of one member queue there, as at :func:`participation_lock`), refuses a second
    response unless the survey takes several (``ON CONFLICT ... DO UPDATE ... WHERE``: then no
    row comes back and nothing is written), records the submission and, for a named survey,
    points ``submitted`` at the member's draft when there is one -- ``response`` is then
    written over the draft's row, which keeps its id and start time -- or at ``response``'s new
    id. Then, as in :func:`submission_record`: the response (or the sealed one, ``sealed``,
    and the member's sealed draft deleted: ``discard_draft``), the answer rows, and last the
    guarded count of the survey.

    When the count matches no survey row (closed, full, or another definition version) the
    statement raises (``surveys_submission_refused()``) and PostgreSQL undoes all its writes;
    that comes back as ``counted`` False, nothing written. A member's second response refused
    by the participation writes nothing either (``written`` False).

    It was two statements (:func:`participation_lock`, then :func:`submission_record`), which
    wrote the participation row twice, in a transaction."""
    params = _submission_params(survey, now, response=response.pk if response else None)
    params |= {"user": user.pk, "anonymous": survey.anonymous}
    params["multiple"] = survey.allow_multiple_responses
    parts: list[tuple[str, str]] = []
    if sealed is not None:  # written only when the participation took it, as below
        parts.append(("sealed", _insert_sql(sealed, params, source="FROM p")))
        if discard_draft is not None:
            discarded = f"{_DISCARD_DRAFT_SQL} AND EXISTS (SELECT 1 FROM p)"  # noqa: S608
            parts.append(("discarded", discarded))
            params["discard"] = discard_draft
    else:
        created = _insert_sql(response, params, source="FROM p WHERE p.id = %(response)s")
        parts.append(("created", created))
        drafted = _submit_draft_sql(response, params, where="r.id = p.id AND p.id <> %(response)s")
        parts.append(("drafted", drafted))
        if rows:
            parts.append(("answered", _answers_sql("p.id", "p, ")))
            params["rows"] = answer_rows_json(rows)
    ctes = _writes_then_count(parts, first=("p", _PARTICIPATION_SUBMIT_SQL))
    sql = (
        f"WITH {ctes} SELECT EXISTS (SELECT 1 FROM p), (SELECT id FROM p), "  # noqa: S608
        "(SELECT box_waiting FROM counted), "
        # Taken by the participation but not counted: the whole statement is undone.
        "CASE WHEN NOT EXISTS (SELECT 1 FROM p) OR EXISTS (SELECT 1 FROM counted) THEN 0 "
        "ELSE surveys_submission_refused() END"
    )
    try:
        with _on_its_own(), prepared_cursor() as cursor:
            cursor.execute(sql, params)
            written, response_id, waiting, _ok = cursor.fetchone()
    except IntegrityError as exc:
        if not _refused(exc):
            raise
        return SubmitOutcome(written=True, counted=False, response_id=None)
    return SubmitOutcome(written=written, counted=written, response_id=response_id, waiting=waiting)


#: What ``surveys_submission_refused()`` (migration ``surveys.0012``) raises as.
SUBMISSION_REFUSED = "survey_submission_counted"


def _refused(exc: IntegrityError) -> bool:
    """Whether ``exc`` is :func:`submission_at_once`'s statement refusing itself."""
    diag = getattr(exc.__cause__, "diag", None)
    return getattr(diag, "constraint_name", None) == SUBMISSION_REFUSED


@contextmanager
def _on_its_own() -> Iterator[None]:
    """Run one self-contained statement: on its own in autocommit (PostgreSQL undoes a failed
    statement whole), in a savepoint inside a caller's transaction, which a refused statement
    must leave usable."""
    if connection.in_atomic_block:
        with transaction.atomic():
            yield
    else:
        yield


def _writes_then_count(
    parts: list[tuple[str, str]], *, first: tuple[str, str] | None = None
) -> str:
    """The ``WITH`` list of a submission: ``first`` (the participation's upsert, read by the
    main query and by the count), the writes (``parts``: name, data-modifying SQL), then
    ``counted``, the guarded count of the survey row, made to run after all of them (it
    returns the survey's new ``box_waiting``).

    PostgreSQL runs a data-modifying ``WITH`` part when the main query first reads it and the
    unread ones at the end: a count read by the main query took the hot survey-row lock
    before the writes, and held it through them. Its ``WHERE`` now reads what the writes
    return, so they complete first and the lock is held only from there to COMMIT
    (``tests/surveys/test_submit_path.py`` checks the order)."""
    ctes = [f"{first[0]} AS ({first[1]})"] if first else []
    ctes += [f"{name} AS ({sql} RETURNING 1)" for name, sql in parts]
    done = " UNION ALL ".join(f"SELECT 1 FROM {name}" for name, _sql in parts)  # noqa: S608
    guard = f" AND EXISTS (SELECT 1 FROM {first[0]})" if first else ""  # noqa: S608
    ctes.append(
        f"counted AS ({_COUNT_SQL}{guard} "  # noqa: S608 (no input in the SQL)
        f"AND (SELECT count(*) FROM ({done}) AS done) >= 0 RETURNING box_waiting)"
    )
    return ", ".join(ctes)


def _submission_params(survey: Survey, now: datetime, *, response: str | None) -> dict[str, Any]:
    """The parameters every part of a submission statement shares."""
    return {
        "community": survey.community_id,
        "survey": survey.pk,
        "response": response,
        "submitted": ResponseStatus.SUBMITTED,
        "published": SurveyStatus.PUBLISHED,
        "now": now,
        "version": survey.version,
        "boxed": 1 if survey.anonymous else 0,  # an anonymous submission goes into the box
    }


#: The submitting upsert of :func:`submission_at_once` (its ``RETURNING id``: the named
#: response submitted; NULL for anonymous surveys, whose participation points at nothing).
_PARTICIPATION_SUBMIT_SQL = (
    f"INSERT INTO {Participation._meta.db_table} AS p "  # noqa: S608 (no input in the SQL)
    "(community_id, survey_id, user_id, anonymous, status, submissions, submitted_id) "
    "VALUES (%(community)s, %(survey)s, %(user)s, %(anonymous)s, %(submitted)s, 1, "
    "%(response)s) "
    "ON CONFLICT (community_id, survey_id, user_id) DO UPDATE SET status = EXCLUDED.status, "
    "submissions = p.submissions + 1, draft_id = NULL, "
    "submitted_id = COALESCE(p.draft_id, EXCLUDED.submitted_id) "
    "WHERE p.submissions = 0 OR %(multiple)s "
    "RETURNING p.submitted_id AS id"
)
#: One more submission on the locked participation (parameters: submitted, response,
#: participation).
_MARK_SUBMITTED_SQL = (
    f"UPDATE {Participation._meta.db_table} SET status = %(submitted)s, "  # noqa: S608
    "submissions = submissions + 1, draft_id = NULL, submitted_id = %(response)s "
    "WHERE id = %(participation)s"
)
_DISCARD_DRAFT_SQL = (
    f"DELETE FROM {SealedDraft._meta.db_table} "  # noqa: S608 (no input in the SQL)
    "WHERE community_id = %(community)s AND survey_id = %(survey)s AND lookup = %(discard)s"
)
#: The guarded count (see :func:`submission_count`; parameters: survey, version, published,
#: now, boxed).
_COUNT_SQL = (
    f"UPDATE {Survey._meta.db_table} SET submitted_count = submitted_count + 1, "  # noqa: S608
    "box_waiting = box_waiting + %(boxed)s "
    "WHERE id = %(survey)s AND version = %(version)s AND status = %(published)s "
    "AND (opens_at IS NULL OR opens_at <= %(now)s) AND (closes_at IS NULL OR closes_at > %(now)s) "
    "AND (response_cap IS NULL OR submitted_count < response_cap)"
)
#: What a submission changes on the member's draft (the rest was set when it was saved).
_SUBMIT_FIELDS = ("status", "answers", "definition_version", "updated_at", "submitted_at")


def _insert_sql(obj: Any, params: dict[str, Any], *, source: str) -> str:
    """``INSERT`` of ``obj``'s row, its values as named parameters (``<model initial>_<column>``)
    ``SELECT``-ed ``source`` (``FROM p WHERE ...``: inserted only when that finds a row)."""
    fields = obj._meta.concrete_fields
    prefix = obj._meta.model_name[0]
    names = []
    for field in fields:
        name = f"{prefix}_{field.column}"
        params[name] = field.get_db_prep_save(getattr(obj, field.attname), connection)
        names.append(f"%({name})s")
    return (
        f"INSERT INTO {obj._meta.db_table} ({', '.join(f.column for f in fields)}) "  # noqa: S608
        f"SELECT {', '.join(names)} {source}"
    )


def _submit_draft_sql(response: Response, params: dict[str, Any], *, where: str) -> str:
    """``UPDATE`` of the member's draft ``r`` (found by ``where``, which may read ``p``) with
    what a submission sets (:data:`_SUBMIT_FIELDS`, from ``response``). Its values share the
    parameters of :func:`_insert_sql` of the same response when the statement has one: the
    answers are then dumped, sent and parsed once, not twice."""
    meta = response._meta
    assignments = []
    for name in _SUBMIT_FIELDS:
        field = meta.get_field(name)
        key = f"{meta.model_name[0]}_{field.column}"  # as in _insert_sql
        if key not in params:
            params[key] = field.get_db_prep_save(getattr(response, name), connection)
        assignments.append(f"{field.column} = %({key})s")
    source = " FROM p" if "p." in where else ""
    return f"UPDATE {meta.db_table} AS r SET {', '.join(assignments)}{source} WHERE {where}"  # noqa: S608


def _answers_sql(response_id: str, source: str) -> str:
    """PostgreSQL: the ``INSERT`` of one response's answer rows, ``response_id`` (SQL: a
    parameter, or ``p.id``) theirs, read ``FROM {source}`` the rows of :func:`answer_rows_json`
    (parameters: community, survey, rows)."""
    return (
        f"INSERT INTO {Answer._meta.db_table} ({_ANSWER_COLUMNS}) "  # noqa: S608
        f"SELECT %(community)s, %(survey)s, {response_id}, {ANSWER_ROW_VALUES} "
        f"FROM {source}{ANSWER_ROWS_FROM}"
    )


_ANSWER_COLUMNS = (
    "community_id, survey_id, response_id, question_id, choice_id, row_id, number, text, date"
)


def answer_rows_json(rows: list[AnswerRow] | list[Any]) -> str:
    """Answer rows as ONE parameter, a JSON array of ``AnswerRow`` arrays (a mix adds the
    response's id after the six), which :data:`ANSWER_ROWS_FROM` and :data:`ANSWER_ROW_VALUES`
    turn back into rows. psycopg dumps a Python list into a PostgreSQL array element by element
    in Python (six lists of twenty: about 0.2 ms of CPU per submit); JSON text does it in C
    (``community.json_text``: 1-2 µs for a submit's rows), and PostgreSQL reads either as fast."""
    return json_param(rows)


#: An ``AnswerRow`` in its plain JSON form (number and date as text), as a sealed response
#: carries it and as :func:`answer_rows_json` sends it.
PlainAnswerRow = list[Any]


def answer_rows_plain(rows: list[AnswerRow]) -> list[PlainAnswerRow]:
    """``rows`` in their plain JSON form (what :func:`answer_rows_json` would send)."""
    return [
        [q, c, r, None if n is None else str(n), t, None if d is None else d.isoformat()]
        for q, c, r, n, t, d in rows
    ]


def answer_rows_from_plain(rows: list[PlainAnswerRow]) -> list[AnswerRow]:
    """The ``AnswerRow`` values of :func:`answer_rows_plain`'s form."""
    return [
        (
            q,
            c,
            r,
            None if n is None else Decimal(n),
            t,
            None if d is None else date.fromisoformat(d),
        )
        for q, c, r, n, t, d in rows
    ]


def json_param(value: Any) -> str:
    """``value`` as compact JSON text, for a ``json`` parameter read back in the statement
    (dates and decimals as their text)."""
    return compact_json(value, default=str).decode()


#: The rows of :func:`answer_rows_json` (the parameter ``rows``), one ``json`` value ``a`` each.
ANSWER_ROWS_FROM = "json_array_elements(%(rows)s::json) AS a"
#: The six ``AnswerRow`` columns of one row of :data:`ANSWER_ROWS_FROM`, typed.
ANSWER_ROW_VALUES = "a->>0, a->>1, a->>2, (a->>3)::numeric, a->>4, (a->>5)::date"


def participation_mark_submitted(*, participation_id: int, submitted_id: str | None) -> None:
    """Record one more submission on the (locked) participation row."""
    params = {
        "submitted": ResponseStatus.SUBMITTED,
        "response": submitted_id,
        "participation": participation_id,
    }
    with connection.cursor() as cursor:
        cursor.execute(_MARK_SUBMITTED_SQL, params)


def submission_count(*, survey: Survey, now: datetime) -> int | None:
    """Count one submission, only while the survey is open, under its cap and still at the
    definition ``version`` the answers were validated against; None when the guard matched
    no row, else the survey's new ``box_waiting`` (an anonymous submission goes into the box).

    One conditional ``UPDATE``: it row-locks the survey until COMMIT, and PostgreSQL re-checks
    the ``WHERE`` on the latest row version after waiting for a concurrent submitter's (or
    author's) lock, so the cap can never be passed (the check constraint
    ``survey_cap_not_exceeded`` backs it), and answer rows never name a question or choice an
    author deleted meanwhile (every authoring change bumps ``version`` under that lock; the
    answer rows have no foreign keys to questions and choices: see ``Answer``)."""
    with connection.cursor() as cursor:
        cursor.execute(_COUNT_SQL, _submission_params(survey, now, response=None))
        if cursor.rowcount != 1:
            return None
    if not survey.anonymous:
        return 0  # nothing goes into the box: no read-back
    # Read back in the same transaction, whose write lock on the row is held until COMMIT.
    return Survey.objects.filter(pk=survey.pk).values_list("box_waiting", flat=True).get()


def answer_rows_insert(
    *, community_id: str, survey_id: str, response_id: str, rows: list[AnswerRow]
) -> None:
    """Insert a submitted response's answer rows in one statement."""
    if connection.vendor == "postgresql":
        sql = _answers_sql("%(response)s", "")
        params: Any = {
            "community": community_id,
            "survey": survey_id,
            "response": response_id,
            "rows": answer_rows_json(rows),
        }
    else:
        sql = f"INSERT INTO {Answer._meta.db_table} ({_ANSWER_COLUMNS}) VALUES " + ", ".join(  # noqa: S608
            ["(%s, %s, %s, %s, %s, %s, %s, %s, %s)"] * len(rows)
        )
        params = []
        ops = connection.ops
        for question_id, choice_id, row_id, number, text, day in rows:
            params += [
                community_id,
                survey_id,
                response_id,
                question_id,
                choice_id,
                row_id,
                ops.adapt_decimalfield_value(number, 30, 10) if number is not None else None,
                text,
                ops.adapt_datefield_value(day),
            ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


#: One opened response of a mix: (answers JSON, definition version, edit-token hash, rows in
#: their plain JSON form, as sealed: PostgreSQL takes them as they are).
MixedResponse = tuple[dict[str, Any], int | None, str, list[PlainAnswerRow]]


def mixed_batch_write(
    *,
    survey: Survey,
    sealed_ids: list[Any],
    responses: list[MixedResponse],
    at: datetime,
) -> int:
    """Write out one mixed batch of an anonymous survey, in the (shuffled) order of
    ``responses``, every row stamped ``at``: delete the batch's box entries and the mixed
    responses its edits replace (with their answer rows), then insert the new responses and
    all their answer rows, and last take the batch off the survey's ``box_waiting``. Ids are
    fresh random ones, drawn in that order. Returns how many responses still wait in the box.

    On PostgreSQL this is two statements whatever the batch size (data-modifying ``WITH``;
    the answers' scope is checked once per statement: see ``Answer``): the deletions must come
    first, or an edit's new response would meet the unique edit-token index of the one it
    replaces, and the parts of one ``WITH`` run in no defined order. The ORM wrote one
    statement per response (its answer rows) after a collecting delete. Anonymous responses have no
    participation pointing at them (``participation_anonymous_unlinked``), so nothing else
    references the deleted responses."""
    token_hashes = [token_hash for _, _, token_hash, _ in responses]
    ids = [new_public_id() for _ in responses]
    if connection.vendor != "postgresql":
        SealedResponse.objects.filter(pk__in=sealed_ids).delete()
        Response.objects.filter(
            community_id=survey.community_id, survey=survey, edit_token_hash__in=token_hashes
        ).delete()
        Response.objects.bulk_create(
            [
                Response(
                    id=pk,
                    community_id=survey.community_id,
                    survey=survey,
                    status=ResponseStatus.SUBMITTED,
                    answers=answers,
                    definition_version=version,
                    edit_token_hash=token_hash,
                    created_at=at,
                    updated_at=at,
                    submitted_at=at,
                )
                for pk, (answers, version, token_hash, _) in zip(ids, responses, strict=True)
            ]
        )
        for pk, (*_, rows) in zip(ids, responses, strict=True):
            if rows:
                answer_rows_insert(
                    community_id=survey.community_id,
                    survey_id=survey.pk,
                    response_id=pk,
                    rows=answer_rows_from_plain(rows),
                )
        return _box_taken(survey, len(sealed_ids))
    scope = [survey.community_id, survey.pk]
    # Each answer row carries its response's id seventh (``a->>6`` in the statement).
    rows = [
        [*row, pk]
        for pk, (*_, answer_rows) in zip(ids, responses, strict=True)
        for row in answer_rows
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            _MIX_DELETE_SQL, [survey.community_id, sealed_ids, *scope, token_hashes, *scope]
        )
        cursor.execute(
            _MIX_INSERT_SQL,
            {
                "community": survey.community_id,
                "survey": survey.pk,
                "submitted": ResponseStatus.SUBMITTED,
                "at": at,
                # One JSON parameter, as the answer rows: psycopg escapes the elements of
                # array parameters one by one in Python (a regular expression per answers).
                "responses": json_param(
                    [
                        [pk, answers, version, token_hash]
                        for pk, (answers, version, token_hash, _) in zip(
                            ids, responses, strict=True
                        )
                    ]
                ),
                "rows": answer_rows_json(rows),
                "mixed": len(sealed_ids),
            },
        )
        (waiting,) = cursor.fetchone()
    return waiting


def _box_taken(survey: Survey, mixed: int) -> int:
    """Other databases: ``mixed`` responses off the survey's ``box_waiting``; what is left."""
    scope = Survey.objects.filter(pk=survey.pk)
    scope.update(box_waiting=Greatest(F("box_waiting") - mixed, Value(0)))
    return scope.values_list("box_waiting", flat=True).get()


_MIX_DELETE_SQL = (
    f"WITH box AS (DELETE FROM {SealedResponse._meta.db_table} "  # noqa: S608
    "WHERE community_id = %s AND id = ANY(%s)), "
    f"old AS (SELECT id FROM {Response._meta.db_table} "
    "WHERE community_id = %s AND survey_id = %s AND edit_token_hash = ANY(%s::varchar[])), "
    f"old_answers AS (DELETE FROM {Answer._meta.db_table} "
    "WHERE community_id = %s AND survey_id = %s AND response_id IN (SELECT id FROM old)) "
    f"DELETE FROM {Response._meta.db_table} WHERE id IN (SELECT id FROM old)"
)

#: The responses and their answer rows in, then (its ``WHERE`` reads what they return, so it
#: runs after them and the hot survey row is locked only from there to COMMIT, as in
#: ``_writes_then_count``) the batch taken off ``box_waiting``, which the statement returns.
_MIX_INSERT_SQL = (
    f"WITH responses AS (INSERT INTO {Response._meta.db_table} "  # noqa: S608
    "(community_id, survey_id, status, respondent_key, created_at, updated_at, submitted_at, "
    "id, answers, definition_version, edit_token_hash) "
    "SELECT %(community)s, %(survey)s, %(submitted)s, '', %(at)s, %(at)s, %(at)s, "
    "x->>0, (x->1)::jsonb, (x->>2)::integer, x->>3 "
    "FROM json_array_elements(%(responses)s::json) AS x RETURNING 1), "
    f"answered AS ({_answers_sql('a->>6', '')} RETURNING 1), "
    f"taken AS (UPDATE {Survey._meta.db_table} "
    "SET box_waiting = GREATEST(box_waiting - %(mixed)s, 0) WHERE id = %(survey)s "
    "AND (SELECT count(*) FROM (SELECT 1 FROM responses UNION ALL SELECT 1 FROM answered) "
    "AS done) >= 0 RETURNING box_waiting) "
    "SELECT box_waiting FROM taken"
)
