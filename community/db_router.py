"""Which database a read goes to: the primary (``default``), or the read replica for reads that
may lag.

The rule: every read goes to the primary, so a request always sees its own writes and the
membership check is never stale. Only reads that are allowed to be a few seconds late go to the
``replica`` alias (``DATABASE_REPLICA_URL``; without it there is no replica and everything reads
the primary):

* survey reports and cross-tables (admin), a survey's published results (members),
* export files (survey responses, event attendees), read by the worker,
* the admin dashboard's participation analytics,
* the results of a closed poll whose results are frozen (nothing changes them any more).

Such a read is wrapped in :func:`lagging_reads` (the router's hint for every query inside it) or
uses ``.using(read_alias())``; :func:`lagging` wraps a whole function and runs it again on the
primary when the replica fails in the middle.

Fallback: when the replica does not answer (connection refused, timeout, stopped standby), the
read goes to the primary and the replica is not tried again in this process for
:data:`RETRY_AFTER` seconds, so a dead replica costs one failed connection attempt per process
and interval, not one per request. This mark is a per-process circuit breaker, not shared state:
losing it costs one more attempt. Inside a transaction on the primary every read stays there
(it may be reading what the transaction wrote).
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from typing import ParamSpec, TypeVar

from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections

REPLICA = "replica"
#: Seconds a process reads from the primary after the replica failed, before trying it again.
RETRY_AFTER = 30.0

logger = logging.getLogger(__name__)
P = ParamSpec("P")
T = TypeVar("T")

_hint: ContextVar[str | None] = ContextVar("lagging_read_alias", default=None)
_down_until = 0.0


def replica_configured() -> bool:
    """Whether a ``replica`` alias exists (``DATABASE_REPLICA_URL`` is set)."""
    return REPLICA in connections.settings


def mark_replica_down() -> None:
    """Read from the primary for :data:`RETRY_AFTER` seconds; drop the broken connection."""
    global _down_until
    _down_until = time.monotonic() + RETRY_AFTER
    with suppress(DatabaseError):
        connections[REPLICA].close()


def reset_replica_state() -> None:
    """Forget that the replica failed (tests; a process that knows it is back)."""
    global _down_until
    _down_until = 0.0


def _replica_alive() -> bool:
    connection = connections[REPLICA]
    try:
        return connection.connection is not None and connection.is_usable()
    except DatabaseError:
        return False


def read_alias() -> str:
    """The alias a read that may lag should use now: the replica when it is configured,
    answers and no transaction is open on the primary; the primary otherwise."""
    if not replica_configured() or connections[DEFAULT_DB_ALIAS].in_atomic_block:
        return DEFAULT_DB_ALIAS
    if time.monotonic() < _down_until:
        return DEFAULT_DB_ALIAS
    replica = connections[REPLICA]
    try:
        # A connection that broke while idle (standby stopped) is noticed here, once per
        # request (CONN_HEALTH_CHECKS), not by the first query of the read.
        replica.close_if_health_check_failed()
        replica.ensure_connection()
    except DatabaseError as exc:
        logger.warning("read replica unavailable, reading from the primary: %s", exc)
        mark_replica_down()
        return DEFAULT_DB_ALIAS
    return REPLICA


@contextmanager
def lagging_reads() -> Iterator[str]:
    """Route every ORM read inside the block to :func:`read_alias` (writes stay on the
    primary). Yields the alias chosen."""
    alias = read_alias()
    token = _hint.set(alias)
    try:
        yield alias
    finally:
        _hint.reset(token)


@contextmanager
def primary_reads() -> Iterator[None]:
    """Route every read inside the block to the primary (undoes an outer lagging block)."""
    token = _hint.set(DEFAULT_DB_ALIAS)
    try:
        yield
    finally:
        _hint.reset(token)


def lagging(func: Callable[P, T]) -> Callable[P, T]:
    """Run ``func`` with :func:`lagging_reads`; when the replica fails during it, mark the
    replica down and run ``func`` again on the primary (``func`` must only read)."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        with lagging_reads() as alias:
            if alias == DEFAULT_DB_ALIAS:
                return func(*args, **kwargs)
            try:
                return func(*args, **kwargs)
            except DatabaseError as exc:
                if _replica_alive():
                    raise  # the query failed, not the replica
                logger.warning("read replica failed mid-read, reading from the primary: %s", exc)
                mark_replica_down()
        with primary_reads():
            return func(*args, **kwargs)

    return wrapper


class ReplicaRouter:
    """``DATABASE_ROUTERS`` entry: reads follow the :func:`lagging_reads` hint (the primary
    without one, even for objects loaded from the replica), writes and migrations go to the
    primary only."""

    def db_for_read(self, model, **hints) -> str:
        return _hint.get() or DEFAULT_DB_ALIAS

    def db_for_write(self, model, **hints) -> str:
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints) -> bool:
        # The replica holds the primary's rows: objects from either may be related.
        return True

    def allow_migrate(self, db, app_label, model_name=None, **hints) -> bool:
        return db == DEFAULT_DB_ALIAS
