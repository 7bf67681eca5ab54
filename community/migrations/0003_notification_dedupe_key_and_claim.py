"""The outbox gets a dedupe key separate from the object (unique per community and recipient)
and a claim time, so a send is claimed and committed before WeChat is called."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("community", "0002_membership_muted_at"),
    ]

    operations = [
        migrations.AddField(
            model_name="notification",
            name="dedupe_key",
            field=models.CharField(default="", max_length=160, verbose_name="dedupe key"),
            preserve_default=False,
        ),
        migrations.RunSQL(
            # Existing rows keep the identity they had: one per kind and object.
            "UPDATE community_notification SET dedupe_key = kind || ':' || object_key",
            reverse_sql=migrations.RunSQL.noop,
        ),
        migrations.AddField(
            model_name="notification",
            name="claimed_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="claimed at"),
        ),
        migrations.AlterField(
            model_name="notification",
            name="status",
            field=models.CharField(
                choices=[
                    ("pending", "Pending"),
                    ("sending", "Sending"),
                    ("sent", "Sent"),
                    ("refused", "Refused by the member"),
                    ("failed", "Failed"),
                    ("skipped", "Skipped (no template configured)"),
                ],
                default="pending",
                max_length=16,
                verbose_name="status",
            ),
        ),
        migrations.RemoveConstraint(
            model_name="notification",
            name="notification_once_per_recipient_kind_object",
        ),
        migrations.AddConstraint(
            model_name="notification",
            constraint=models.UniqueConstraint(
                fields=("community", "recipient", "dedupe_key"),
                name="notification_once_per_recipient_dedupe_key",
            ),
        ),
    ]
