"""Give every existing community the default announcement categories (new ones get them from
``community_create``)."""

import secrets

from django.db import migrations

DEFAULT_CATEGORIES = ("行业资讯", "知识分享", "热点话题", "活动通知")
ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def forwards(apps, schema_editor):
    Community = apps.get_model("community", "Community")
    Category = apps.get_model("announcements", "Category")
    rows = [
        Category(
            id="".join(secrets.choice(ALPHABET) for _ in range(12)),
            community_id=community_id,
            name=name,
            position=index,
        )
        for community_id in Community.objects.values_list("pk", flat=True)
        for index, name in enumerate(DEFAULT_CATEGORIES)
    ]
    Category.objects.bulk_create(rows, ignore_conflicts=True)


class Migration(migrations.Migration):
    dependencies = [("announcements", "0001_announcements_categories_reads")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
