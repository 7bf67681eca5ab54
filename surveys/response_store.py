"""Hand-written SQL of the surveys hot path (draft save, submit, edit): the member's
participation row, the submission counted against the cap, the answer rows. Every statement
runs inside the caller's transaction; PostgreSQL gets the fastest form, other databases a
portable equivalent. Compiling the ORM query costs more CPU here than PostgreSQL spends
running it, which is why these few statements are written by hand and kept in one place; the
ones every submit runs are also prepared on the server (``community.db.prepared``)."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from functools import cache
from typing import Any

from django.db import connection

from community.db.prepared import prepared_cursor
from community.ids import new_public_id
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
) -> bool:
    """Write a submission and count it: the response (a new row, or the member's draft
    turned submitted) and its answer rows -- or, for an anonymous survey, the sealed
    response (``sealed``, always a new row: a submission gets a fresh token) and the deletion
    of the member's sealed draft (``discard_draft``: its look-up) --, one more submission on
    the (locked) participation, and the guarded count of :func:`submission_count`. False
    (the caller rolls back: the writes are in its transaction) when the survey stopped
    taking answers or is full.

    On PostgreSQL all of it is ONE statement (data-modifying ``WITH``; the parts touch
    different rows, the answers' foreign keys are checked at COMMIT, deferred, as before): the
    survey row is locked by its last part and the transaction commits right after, so the
    hot lock is still held only for the commit. It was two (writes, then count) plus the
    draft's own delete."""
    submitted_id = response.pk if response is not None else None
    if connection.vendor != "postgresql":
        if discard_draft is not None:
            SealedDraft.objects.filter(
                community_id=survey.community_id, survey_id=survey.pk, lookup=discard_draft
            ).delete()
        if sealed is not None:
            sealed.save(force_insert=True)
        else:
            response.save(force_insert=response._state.adding)
            if rows:
                answer_rows_insert(
                    community_id=survey.community_id,
                    survey_id=survey.pk,
                    response_id=response.pk,
                    rows=rows,
                )
        participation_mark_submitted(participation_id=participation_id, submitted_id=submitted_id)
        return submission_count(survey_id=survey.pk, now=now)
    parts: list[str] = []
    params: list[Any] = []
    if sealed is not None:
        parts.append(_insert_sql(sealed, params))
    elif response._state.adding:
        parts.append(_insert_sql(response, params))
    else:
        parts.append(_update_sql(response, params, fields=_SUBMIT_FIELDS))
    if sealed is None and rows:
        parts.append(_answers_sql(survey, response.pk, rows, params))
    if discard_draft is not None:
        parts.append(_DISCARD_DRAFT_SQL)
        params += [survey.community_id, survey.pk, discard_draft]
    parts.append(_MARK_SUBMITTED_SQL)
    params += [ResponseStatus.SUBMITTED, submitted_id, participation_id]
    ctes = ", ".join(f"w{i} AS ({sql})" for i, sql in enumerate(parts))
    params += [survey.pk, SurveyStatus.PUBLISHED, now, now]
    with prepared_cursor() as cursor:
        cursor.execute(f"WITH {ctes}, counted AS ({_COUNT_SQL} RETURNING 1) {_COUNTED}", params)
        (counted,) = cursor.fetchone()
    if response is not None:
        response._state.adding = False
    return counted == 1


_DISCARD_DRAFT_SQL = (
    f"DELETE FROM {SealedDraft._meta.db_table} "  # noqa: S608 (no input in the SQL)
    "WHERE community_id = %s AND survey_id = %s AND lookup = %s"
)
_COUNTED = "SELECT count(*) FROM counted"


_SUBMIT_FIELDS = ("status", "answers", "definition_version", "updated_at", "submitted_at")


def _insert_sql(obj: Any, params: list[Any]) -> str:
    fields = obj._meta.concrete_fields
    params += [f.get_db_prep_save(getattr(obj, f.attname), connection) for f in fields]
    return (
        f"INSERT INTO {obj._meta.db_table} ({', '.join(f.column for f in fields)}) "  # noqa: S608
        f"VALUES ({', '.join(['%s'] * len(fields))})"
    )


def _update_sql(obj: Any, params: list[Any], *, fields: tuple[str, ...]) -> str:
    meta = obj._meta
    params += [
        meta.get_field(name).get_db_prep_save(getattr(obj, name), connection) for name in fields
    ]
    params.append(obj.pk)
    assignments = ", ".join(f"{meta.get_field(name).column} = %s" for name in fields)
    return f"UPDATE {meta.db_table} SET {assignments} WHERE id = %s"  # noqa: S608


def _answers_sql(survey: Survey, response_id: str, rows: list[AnswerRow], params: list) -> str:
    q_ids, choice_ids, row_ids, numbers, texts, dates = (list(c) for c in zip(*rows, strict=True))
    params += [
        survey.community_id,
        survey.pk,
        response_id,
        q_ids,
        choice_ids,
        row_ids,
        numbers,
        texts,
        dates,
    ]
    return (
        f"INSERT INTO {Answer._meta.db_table} ({_ANSWER_COLUMNS}) "  # noqa: S608
        "SELECT %s, %s, %s, * FROM unnest(%s::varchar[], %s::varchar[], %s::varchar[], "
        "%s::numeric[], %s::text[], %s::date[])"
    )


_ANSWER_COLUMNS = (
    "community_id, survey_id, response_id, question_id, choice_id, row_id, number, text, date"
)

#: The guarded count (see :func:`submission_count`); parameters: survey id, status, now, now.
_COUNT_SQL = (
    f"UPDATE {Survey._meta.db_table} SET submitted_count = submitted_count + 1 "  # noqa: S608
    "WHERE id = %s AND status = %s "
    "AND (opens_at IS NULL OR opens_at <= %s) AND (closes_at IS NULL OR closes_at > %s) "
    "AND (response_cap IS NULL OR submitted_count < response_cap)"
)


_MARK_SUBMITTED_SQL = (
    f"UPDATE {Participation._meta.db_table} SET status = %s, "  # noqa: S608
    "submissions = submissions + 1, draft_id = NULL, submitted_id = %s WHERE id = %s"
)


def participation_mark_submitted(*, participation_id: int, submitted_id: str | None) -> None:
    """Record one more submission on the (locked) participation row."""
    with connection.cursor() as cursor:
        cursor.execute(
            _MARK_SUBMITTED_SQL, [ResponseStatus.SUBMITTED, submitted_id, participation_id]
        )


def submission_count(*, survey_id: str, now: datetime) -> bool:
    """Count one submission, only while the survey is open and under its cap; False when the
    guard matched no row.

    One conditional ``UPDATE``: it row-locks the survey until COMMIT, and PostgreSQL re-checks
    the ``WHERE`` on the latest row version after waiting for a concurrent submitter's lock, so
    the cap can never be passed (the check constraint ``survey_cap_not_exceeded`` backs it)."""
    with connection.cursor() as cursor:
        cursor.execute(_COUNT_SQL, [survey_id, SurveyStatus.PUBLISHED, now, now])
        return cursor.rowcount == 1


def answer_rows_insert(
    *, community_id: str, survey_id: str, response_id: str, rows: list[AnswerRow]
) -> None:
    """Insert a submitted response's answer rows in one statement."""
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
            community_id,
            survey_id,
            response_id,
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


def box_holds_batch(*, survey: Survey) -> bool:
    """Whether at least ``survey.min_group_size`` (k) responses wait in the survey's box.
    Counts at most k entries (a closed survey's leftovers can be many), in a hand-written
    statement: the anonymous submit asks after every commit."""
    sql = (
        f"SELECT count(*) FROM (SELECT 1 FROM {SealedResponse._meta.db_table} "  # noqa: S608
        "WHERE community_id = %s AND survey_id = %s LIMIT %s) AS waiting"
    )
    with prepared_cursor() as cursor:
        cursor.execute(sql, [survey.community_id, survey.pk, survey.min_group_size])
        (waiting,) = cursor.fetchone()
    return waiting >= survey.min_group_size


#: One opened response of a mix: (answers JSON, definition version, edit-token hash, rows).
MixedResponse = tuple[dict[str, Any], int | None, str, list[AnswerRow]]


def mixed_batch_write(
    *,
    survey: Survey,
    sealed_ids: list[Any],
    responses: list[MixedResponse],
    at: datetime,
) -> None:
    """Write out one mixed batch of an anonymous survey, in the (shuffled) order of
    ``responses``, every row stamped ``at``: delete the batch's box entries and the mixed
    responses its edits replace (with their answer rows), then insert the new responses and
    all their answer rows. Ids are fresh random ones, drawn in that order.

    On PostgreSQL this is two statements whatever the batch size (data-modifying ``WITH``;
    the answers' foreign keys are deferred to COMMIT): the deletions must come first, or an
    edit's new response would meet the unique edit-token index of the one it replaces, and
    the parts of one ``WITH`` run in no defined order. The ORM wrote one statement per
    response (its answer rows) after a collecting delete. Anonymous responses have no
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
                    rows=rows,
                )
        return
    answer_columns: list[list[Any]] = [[] for _ in range(7)]
    for pk, (*_, rows) in zip(ids, responses, strict=True):
        for row in rows:
            answer_columns[0].append(pk)
            for column, value in zip(answer_columns[1:], row, strict=True):
                column.append(value)
    scope = [survey.community_id, survey.pk]
    with connection.cursor() as cursor:
        cursor.execute(
            _MIX_DELETE_SQL, [survey.community_id, sealed_ids, *scope, token_hashes, *scope]
        )
        cursor.execute(
            _MIX_INSERT_SQL,
            [
                *scope,
                ResponseStatus.SUBMITTED,
                at,
                at,
                at,
                ids,
                [json.dumps(answers) for answers, *_ in responses],
                [version for _, version, *_ in responses],
                token_hashes,
                *scope,
                *answer_columns,
            ],
        )


_MIX_DELETE_SQL = (
    f"WITH box AS (DELETE FROM {SealedResponse._meta.db_table} "  # noqa: S608
    "WHERE community_id = %s AND id = ANY(%s)), "
    f"old AS (SELECT id FROM {Response._meta.db_table} "
    "WHERE community_id = %s AND survey_id = %s AND edit_token_hash = ANY(%s::varchar[])), "
    f"old_answers AS (DELETE FROM {Answer._meta.db_table} "
    "WHERE community_id = %s AND survey_id = %s AND response_id IN (SELECT id FROM old)) "
    f"DELETE FROM {Response._meta.db_table} WHERE id IN (SELECT id FROM old)"
)

_MIX_INSERT_SQL = (
    f"WITH responses AS (INSERT INTO {Response._meta.db_table} "  # noqa: S608
    "(community_id, survey_id, status, respondent_key, created_at, updated_at, submitted_at, "
    "id, answers, definition_version, edit_token_hash) "
    "SELECT %s, %s, %s, '', %s, %s, %s, * FROM unnest("
    "%s::varchar[], %s::jsonb[], %s::integer[], %s::varchar[])) "
    f"INSERT INTO {Answer._meta.db_table} ({_ANSWER_COLUMNS}) SELECT %s, %s, * FROM unnest("
    "%s::varchar[], %s::varchar[], %s::varchar[], %s::varchar[], %s::numeric[], %s::text[], "
    "%s::date[])"
)
