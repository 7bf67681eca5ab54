"""Record a mute apart from the membership status, so it survives leaving and re-joining."""

from django.db import migrations, models
from django.db.models.functions import Now


def mark_current_mutes(apps, schema_editor):
    Membership = apps.get_model("community", "Membership")
    Membership.objects.filter(status="muted", muted_at__isnull=True).update(muted_at=Now())


class Migration(migrations.Migration):
    dependencies = [
        ("community", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="membership",
            name="muted_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="muted since"),
        ),
        migrations.RunPython(mark_current_mutes, migrations.RunPython.noop),
    ]
