"""Hand-written SQL of the surveys hot path (draft save, submit, edit): the member's
participation row, the submission counted against the cap, the answer rows. Every statement
runs inside the caller's transaction; PostgreSQL gets the fastest form, other databases a
portable equivalent. Compiling the ORM query costs more CPU here than PostgreSQL spends
running it, which is why these few statements are written by hand and kept in one place."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import connection

from community.locking import lock_sql
from surveys.models import Answer, Participation, ResponseStatus, Survey, SurveyStatus

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


def participation_mark_submitted(*, participation_id: int, submitted_id: str | None) -> None:
    """Record one more submission on the (locked) participation row."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Participation._meta.db_table} SET status = %s, "  # noqa: S608
            "submissions = submissions + 1, draft_id = NULL, submitted_id = %s WHERE id = %s",
            [ResponseStatus.SUBMITTED, submitted_id, participation_id],
        )


def submission_count(*, survey_id: str, now: datetime) -> bool:
    """Count one submission, only while the survey is open and under its cap; False when the
    guard matched no row.

    One conditional ``UPDATE``: it row-locks the survey until COMMIT, and PostgreSQL re-checks
    the ``WHERE`` on the latest row version after waiting for a concurrent submitter's lock, so
    the cap can never be passed (the check constraint ``survey_cap_not_exceeded`` backs it)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Survey._meta.db_table} SET submitted_count = submitted_count + 1 "  # noqa: S608
            "WHERE id = %s AND status = %s "
            "AND (opens_at IS NULL OR opens_at <= %s) AND (closes_at IS NULL OR closes_at > %s) "
            "AND (response_cap IS NULL OR submitted_count < response_cap)",
            [survey_id, SurveyStatus.PUBLISHED, now, now],
        )
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
