"""A schema editor that creates no ``varchar_pattern_ops`` index on opaque ids.

Django adds a second ``*_like`` index to every indexed ``varchar`` column on PostgreSQL so
that ``LIKE 'abc%'`` can use an index outside the C locale. Our ids (random public ids and
foreign keys to them, token hashes, WeChat openids) are only ever compared whole, so those
indexes are never read, yet every insert writes them: an answer row paid for six of them.
Every table created from now on (events, roles, boards...) gets none; the migration
``community.0004`` dropped the existing ones."""

from __future__ import annotations

from django.db.backends.postgresql import schema

from community.ids import is_opaque


class DatabaseSchemaEditor(schema.DatabaseSchemaEditor):
    """Skips the ``_like`` index of fields :func:`community.ids.is_opaque` accepts."""

    def _create_like_index_sql(self, model, field):
        if is_opaque(field):
            return None
        return super()._create_like_index_sql(model, field)
