"""Hand-written SQL of the membership check that every member-facing request makes.

"May this user see this community (and this object of it)?" is asked on every request of
the mini-program. Through the ORM it cost more CPU to compile (joins, ``FilteredRelation``,
``select_related``, ordering for ``first()``) than PostgreSQL spent answering it. Here it is
one statement per model: the object (when there is one), its community and the user's visible
membership, joined, turned into model instances with the same converters the ORM applies (so
SQLite, the development database, reads the same values). On PostgreSQL the statement is
prepared once per connection (``community.db.prepared``): planning the join cost PostgreSQL
several times what running it does."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any, TypeVar

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Model

from community.db.prepared import prepared_cursor
from community.models import Community, Membership

M = TypeVar("M", bound=Model)


class _Shape:
    """How to read one model's columns out of a row: its select list and converters."""

    def __init__(self, model: type[Model], alias: str, using: str):
        connection = connections[using]
        fields = model._meta.concrete_fields
        self.model = model
        self.width = len(fields)
        self.attnames = tuple(f.attname for f in fields)
        qn = connection.ops.quote_name
        self.columns = ", ".join(f"{alias}.{qn(f.column)}" for f in fields)
        self.converters: list[tuple[int, list, Any]] = []
        for index, field in enumerate(fields):
            col = field.get_col(alias)
            found = connection.ops.get_db_converters(col) + col.get_db_converters(connection)
            if found:
                self.converters.append((index, found, col))

    def build(self, row: Sequence[Any], start: int, using: str) -> Model:
        values = list(row[start : start + self.width])
        connection = connections[using]
        for index, converters, col in self.converters:
            value = values[index]
            for converter in converters:
                value = converter(value, col, connection)
            values[index] = value
        return self.model.from_db(using, self.attnames, values)


@cache
def _shape(model: type[Model], alias: str, using: str) -> _Shape:
    return _Shape(model, alias, using)


def select_list(model: type[Model], alias: str, using: str = DEFAULT_DB_ALIAS) -> str:
    """``alias.column, ...`` of every concrete field of ``model``, in the order
    :func:`instance_from_row` reads them: for other hand-written statements of a hot path
    that return a row (``RETURNING``) and want the instance without a ``RawQuerySet``."""
    return _shape(model, alias, using).columns


def instance_from_row(
    model: type[M], row: Sequence[Any], alias: str, using: str = DEFAULT_DB_ALIAS
) -> M:
    """The ``model`` instance of a row selected with :func:`select_list` (same ``alias``)."""
    return _shape(model, alias, using).build(row, 0, using)


@cache
def _membership_sql(using: str, statuses: int) -> str:
    community, membership = _shape(Community, "c", using), _shape(Membership, "m", using)
    qn = connections[using].ops.quote_name
    return (
        f"SELECT {community.columns}, {membership.columns} "  # noqa: S608 (no input in the SQL)
        f"FROM {qn(Membership._meta.db_table)} m "
        f"JOIN {qn(Community._meta.db_table)} c ON c.{qn('id')} = m.{qn('community_id')} "
        f"WHERE m.{qn('community_id')} = %s AND m.{qn('user_id')} = %s "
        f"AND m.{qn('status')} IN ({', '.join(['%s'] * statuses)})"
    )


def _held_sql(using: str) -> str:
    """``EXISTS`` of a moderation hold on ``o`` (the first parameter names its kind)."""
    from django.apps import apps  # the hold table belongs to the moderation app

    qn = connections[using].ops.quote_name
    hold = qn(apps.get_model("moderation", "ContentHold")._meta.db_table)
    return (
        f"EXISTS (SELECT 1 FROM {hold} h WHERE"  # noqa: S608 (no input in the SQL)
        f" h.{qn('community_id')} = o.{qn('community_id')} "
        f"AND h.{qn('target_kind')} = %s AND h.{qn('target_id')} = o.{qn('id')})"
    )


@cache
def _object_sql(model: type[Model], using: str, statuses: int, held: bool = False) -> str:
    obj = _shape(model, "o", using)
    community, membership = _shape(Community, "c", using), _shape(Membership, "m", using)
    qn = connections[using].ops.quote_name
    held_column = f", {_held_sql(using)}" if held else ""
    return (
        f"SELECT {obj.columns}, {community.columns}, {membership.columns}{held_column} "  # noqa: S608
        f"FROM {qn(model._meta.db_table)} o "
        f"JOIN {qn(Community._meta.db_table)} c ON c.{qn('id')} = o.{qn('community_id')} "
        f"JOIN {qn(Membership._meta.db_table)} m ON m.{qn('community_id')} = o.{qn('community_id')} "
        f"AND m.{qn('user_id')} = %s AND m.{qn('status')} IN ({', '.join(['%s'] * statuses)}) "
        f"WHERE o.{qn(model._meta.pk.column)} = %s"
    )


def _fetch_one(using: str, sql: str, params: list[Any]) -> Sequence[Any] | None:
    with prepared_cursor(using) as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


def membership_of(
    *, community_id: str, user_id: str, statuses: Sequence[str], using: str = DEFAULT_DB_ALIAS
) -> Membership | None:
    """The user's membership in one of ``statuses``, with its community loaded; None if
    there is none. One query."""
    row = _fetch_one(
        using, _membership_sql(using, len(statuses)), [community_id, user_id, *statuses]
    )
    if row is None:
        return None
    community = _shape(Community, "c", using)
    community_obj = community.build(row, 0, using)
    membership = _shape(Membership, "m", using).build(row, community.width, using)
    membership.community = community_obj
    return membership


def object_with_membership(
    model: type[M],
    *,
    object_id: str,
    user_id: str,
    statuses: Sequence[str],
    hold_kind: str | None = None,
    using: str = DEFAULT_DB_ALIAS,
) -> tuple[M, Membership] | None:
    """The object (a ``model`` row with a ``community`` foreign key), its community and the
    user's membership in it in one of ``statuses``, in one query; None when the object does
    not exist or the user has no such membership. Both carry the same community instance.
    With ``hold_kind`` the same statement also tells whether moderation holds the object back
    (``obj.held``)."""
    params = [hold_kind] if hold_kind else []
    row = _fetch_one(
        using,
        _object_sql(model, using, len(statuses), bool(hold_kind)),
        [*params, user_id, *statuses, object_id],
    )
    if row is None:
        return None
    shape = _shape(model, "o", using)
    community = _shape(Community, "c", using)
    obj = shape.build(row, 0, using)
    community_obj = community.build(row, shape.width, using)
    membership_shape = _shape(Membership, "m", using)
    membership = membership_shape.build(row, shape.width + community.width, using)
    if hold_kind:
        obj.held = bool(row[shape.width + community.width + membership_shape.width])
    obj.community = community_obj
    membership.community = community_obj
    return obj, membership
