"""Index housekeeping for migrations."""

from __future__ import annotations

from django.db import migrations

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


def covered_index_drop(table: str, index: str, column: str = "community_id") -> migrations.RunSQL:
    """Drop one single-column index, by name, that a composite index leading with the same
    column already covers. (An ``AlterField(db_index=False)`` drops every index on exactly that
    column, a partial unique one such as ``membership_one_owner_per_community`` included: pair
    the field's state change with this instead, in ``SeparateDatabaseAndState``.) Reversible."""
    return migrations.RunSQL(
        f'DROP INDEX IF EXISTS "{index}"', f'CREATE INDEX "{index}" ON "{table}" ("{column}")'
    )
