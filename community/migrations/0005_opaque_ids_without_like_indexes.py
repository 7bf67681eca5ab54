"""Opaque ids lose their ``varchar_pattern_ops`` (``_like``) indexes on PostgreSQL.

Tables created from now on never get them (``community.db.backends.postgresql``); this drops
the ones Django created before, in every app migrated so far (hence the dependencies on the
latest polls and surveys migrations). Nothing to do on SQLite. Not reversed: no query used
them."""

from django.db import migrations

import community.ids
from community.db.indexes import drop_like_indexes_on_opaque_ids


class Migration(migrations.Migration):
    dependencies = [
        ("community", "0004_subscription_credits"),
        ("polls", "0006_boxentry_one_entry_per_ballot"),
        ("surveys", "0005_surveys_sealed_drafts"),
    ]

    operations = [
        migrations.AlterField(
            model_name="authtoken",
            name="key_hash",
            field=community.ids.OpaqueCharField(max_length=64, unique=True),
        ),
        migrations.AlterField(
            model_name="community",
            name="open_gid",
            field=community.ids.OpaqueCharField(
                blank=True,
                max_length=64,
                null=True,
                unique=True,
                verbose_name="WeChat group id (openGId)",
            ),
        ),
        migrations.AlterField(
            model_name="user",
            name="openid",
            field=community.ids.OpaqueCharField(
                blank=True, max_length=64, null=True, unique=True, verbose_name="WeChat openid"
            ),
        ),
        migrations.RunPython(drop_like_indexes_on_opaque_ids, migrations.RunPython.noop),
    ]
