"""Server-side prepared statements for the hand-written statements of the hot paths.

Django binds parameters on the client and sends the whole text each time, so PostgreSQL
parses and plans every statement again. For the few statements a member-facing write runs on
every request (the membership check, the participation lock, the one-statement submission,
the vote) planning cost more than running them: the survey membership check cost PostgreSQL
about 0.24 ms of CPU bound on the client and 0.04 ms prepared (``bench_member_check.py``).
:func:`prepared_cursor` gives those statements a cursor that binds on the server and prepares
each statement on its first use in a connection (psycopg keeps the names, up to 100 per
connection; the pooled connections keep them across requests); PostgreSQL then skips parsing
and, after five runs, keeps a generic plan when it is as good as a fresh one. A ``ROLLBACK``
makes psycopg forget them all (it deallocates them, to be safe), so after a refused write the
next statements on that connection are prepared again: one more round trip each.

Only those statements ask for it: the settings give psycopg a ``prepare_threshold`` no
statement reaches (``PREPARE_WHEN_ASKED``), so ORM queries (client-side binding) are never
prepared. Behind PgBouncer in transaction mode (``DB_POOLER=pgbouncer``) the threshold is
``None``, as a prepared statement would live in whichever server session prepared it, and
:func:`prepared_cursor` is the ordinary cursor. So is it on SQLite.

The cursor is Django's (``connection._prepare_cursor``): errors are Django's, and
``assertNumQueries`` and ``connection.queries`` see its statements (with ``$1`` placeholders,
as prepared)."""

from __future__ import annotations

from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections

try:
    from django.db.backends.postgresql.base import TIMESTAMPTZ_OID, ServerBindingCursor
    from django.db.backends.postgresql.psycopg_any import register_tzloader
    from psycopg.pq import Format
except ImportError:  # psycopg is not installed: SQLite only
    ServerBindingCursor = None


if ServerBindingCursor is not None:

    class PreparedCursor(ServerBindingCursor):
        """Binds on the server and prepares every statement it runs (psycopg reuses the
        prepared statement of the same text and parameter types)."""

        def execute(self, query, params=None, *, prepare=None, binary=None):
            return super().execute(query, params, prepare=True, binary=binary)

    class LoggedPreparedCursor(PreparedCursor):
        """The same, for a connection that logs its queries (``DEBUG``, ``assertNumQueries``):
        psycopg keeps no query text for a prepared execution, which Django's log reads."""

        def execute(self, query, params=None, *, prepare=None, binary=None):
            result = super().execute(query, params, binary=binary)
            self._query = self._convert_query(query, params)
            return result


def prepared_cursor(using: str = DEFAULT_DB_ALIAS) -> Any:
    """A cursor (use it as a context manager) whose statements are prepared on the server;
    the ordinary cursor where statements cannot be prepared (SQLite, PgBouncer)."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        return connection.cursor()
    connection.close_if_health_check_failed()  # as Django's cursor(): CONN_HEALTH_CHECKS
    connection.ensure_connection()
    raw = connection.connection
    if raw.prepare_threshold is None:
        return connection.cursor()
    with connection.wrap_database_errors:
        cursor = (LoggedPreparedCursor if connection.queries_logged else PreparedCursor)(raw)
        # As Django's own cursors do: read timestamps in the connection's time zone.
        if connection.timezone != raw.adapters.get_loader(TIMESTAMPTZ_OID, Format.TEXT).timezone:
            register_tzloader(connection.timezone, cursor)
        return connection._prepare_cursor(cursor)
