"""Migration operations of our own."""

from __future__ import annotations

from django.db import migrations


class PostgreSQLOnly(migrations.RunSQL):
    """``RunSQL`` of a script that only PostgreSQL has a use for (triggers, functions, a
    composite key, storage settings); other databases (SQLite in development) skip it both
    ways. Each script goes to the server whole, as one text: function bodies keep their
    semicolons."""

    def __init__(self, sql: str, reverse_sql: str, **kwargs):
        super().__init__([sql], [reverse_sql], elidable=False, **kwargs)

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)
