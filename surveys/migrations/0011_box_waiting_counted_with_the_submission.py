"""``Survey.box_waiting``: how many sealed responses wait in an anonymous survey's box, kept
by the submission's guarded count (+1) and by the mixing step (minus what it mixed), so the
anonymous submit learns from its own statement whether it completed a batch instead of
counting the box after its commit. Existing boxes are counted once here."""

from django.db import migrations, models
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce


def count_waiting(apps, schema_editor):
    Survey = apps.get_model("surveys", "Survey")
    SealedResponse = apps.get_model("surveys", "SealedResponse")
    waiting = (
        SealedResponse.objects.filter(survey=OuterRef("pk"))
        .order_by()
        .values("survey")
        .annotate(n=Count("pk"))
        .values("n")
    )
    Survey.objects.filter(anonymous=True).update(box_waiting=Coalesce(Subquery(waiting), 0))


class Migration(migrations.Migration):
    dependencies = [
        ("surveys", "0010_answer_scope_checked_per_statement"),
    ]

    operations = [
        migrations.AddField(
            model_name="survey",
            name="box_waiting",
            field=models.PositiveIntegerField(
                default=0,
                editable=False,
                help_text=(
                    "Anonymous surveys: how many sealed responses wait in the box. Kept by the "
                    "submission's guarded count and by the mixing step, under the survey row "
                    "lock, so a submission knows without another query whether it completed a "
                    "batch."
                ),
                verbose_name="responses waiting to be mixed",
            ),
        ),
        migrations.RunPython(count_waiting, migrations.RunPython.noop),
    ]
