"""Which database constraint refused a write: so a constraint test fails when *another*
constraint (or none of ours) is what refused it."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.db import IntegrityError


def violated_constraint(exc: IntegrityError) -> str:
    """The name of the constraint PostgreSQL reports (psycopg's ``diag.constraint_name``); on
    SQLite the name from "CHECK constraint failed: <name>", else SQLite's message."""
    diag = getattr(exc.__cause__, "diag", None)
    if diag is not None and diag.constraint_name:
        return diag.constraint_name
    match = re.search(r"CHECK constraint failed: (\w+)", str(exc))
    return match.group(1) if match else str(exc)


def assert_violates(exc: IntegrityError, name: str) -> None:
    violated = violated_constraint(exc)
    # SQLite names no unique constraint ("UNIQUE constraint failed: table.col, ..."); PostgreSQL
    # names every one.
    assert violated == name or violated.startswith("UNIQUE constraint failed"), (violated, name)


def check_constraints_violated(error: ValidationError) -> set[str]:
    """The check constraints named in a ``validate_constraints()`` error (Django's default
    message "Constraint “<name>” is violated.", in whatever language was active)."""
    return set(re.findall(r"“(\w+)”", " ".join(error.messages)))
