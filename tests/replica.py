"""A ``replica`` alias for tests: a second connection to the test database (what a streaming
standby serves), added while a test runs. Data must be committed to be seen through it, so the
tests that use it are transactional."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from types import MethodType

from django.db import connections
from django.db.utils import ProgrammingError

from community import db_router


def _ensure_connection(self) -> None:
    """Django's ``ensure_connection``: the test case forbids connecting aliases it did not
    declare when it started, and this alias did not exist then."""
    if self.connection is None:
        if self.in_atomic_block and self.closed_in_transaction:
            raise ProgrammingError("Cannot open a new connection in an atomic block.")
        with self.wrap_database_errors:
            self.connect()


@contextmanager
def replica_alias(*, port: int | None = None) -> Iterator[str]:
    """Configure the ``replica`` alias (on ``port`` instead, e.g. a dead one) for the block."""
    settings_dict = {**connections["default"].settings_dict}
    settings_dict["OPTIONS"] = {**settings_dict.get("OPTIONS", {}), "connect_timeout": 2}
    if port is not None:
        settings_dict["PORT"] = str(port)
    connections.settings[db_router.REPLICA] = settings_dict
    db_router.reset_replica_state()
    connection = connections[db_router.REPLICA]
    connection.ensure_connection = MethodType(_ensure_connection, connection)
    try:
        yield db_router.REPLICA
    finally:
        connections[db_router.REPLICA].close()
        del connections[db_router.REPLICA]
        del connections.settings[db_router.REPLICA]
        db_router.reset_replica_state()
