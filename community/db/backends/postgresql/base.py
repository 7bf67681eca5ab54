"""``ENGINE = "community.db.backends.postgresql"``: Django's backend with our schema editor."""

from __future__ import annotations

from django.db.backends.postgresql import base

from community.db.backends.postgresql.schema import DatabaseSchemaEditor


class DatabaseWrapper(base.DatabaseWrapper):
    """The stock PostgreSQL wrapper; only the schema editor differs."""

    SchemaEditorClass = DatabaseSchemaEditor
