"""Index housekeeping for migrations."""

from __future__ import annotations

from community.ids import is_opaque


def drop_like_indexes_on_opaque_ids(apps, schema_editor) -> None:
    """Drop the ``*_like`` (``varchar_pattern_ops``) index Django created for every opaque id
    column (see ``community.db.backends.postgresql.schema``) of the models in ``apps``. Only
    PostgreSQL has them; ``IF EXISTS``, so a database created with our backend is unchanged."""
    if schema_editor.connection.vendor != "postgresql":
        return
    for model in apps.get_models(include_auto_created=True):
        opts = model._meta
        if not opts.managed or opts.proxy:
            continue
        for field in opts.local_fields:
            if not (is_opaque(field) and (field.db_index or field.unique)):
                continue
            name = schema_editor._create_index_name(opts.db_table, [field.column], suffix="_like")
            schema_editor.execute(f"DROP INDEX IF EXISTS {schema_editor.quote_name(name)}")
