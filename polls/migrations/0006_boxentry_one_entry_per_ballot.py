"""One waiting entry per ballot, found by a keyed look-up tag.

Existing entries are opened with ``BALLOT_KEY`` and collapsed: for each ballot (receipt hash)
the last entry (highest ``seq``) holds its whole new state and is kept with its tag, the earlier
ones are deleted (replaying them gave the same state)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from community import sealing


def collapse_entries(apps, schema_editor):
    BoxEntry = apps.get_model("polls", "BoxEntry")
    by_poll: dict[str, list] = {}
    for entry in BoxEntry.objects.all().only("id", "poll_id", "sealed"):
        by_poll.setdefault(entry.poll_id, []).append(entry)
    for poll_id, entries in by_poll.items():
        box = f"poll:{poll_id}"
        last: dict[str, tuple[int, object]] = {}
        stale = []
        for entry in entries:
            payload = sealing.unseal(secret=settings.BALLOT_KEY, box=box, sealed=entry.sealed)
            digest, seq = payload["r"], payload.get("n", 0)
            if digest in last and last[digest][0] >= seq:
                stale.append(entry.pk)
                continue
            if digest in last:
                stale.append(last[digest][1].pk)
            last[digest] = (seq, entry)
        BoxEntry.objects.filter(pk__in=stale).delete()
        for digest, (_seq, entry) in last.items():
            entry.tag = sealing.tag(secret=settings.BALLOT_KEY, box=box, value=digest)
            entry.save(update_fields=["tag"])


class Migration(migrations.Migration):
    dependencies = [
        ("community", "0003_notification_dedupe_key_and_claim"),
        ("polls", "0005_polls_ballot_box_publication"),
    ]

    operations = [
        migrations.AddField(
            model_name="boxentry",
            name="tag",
            field=models.CharField(default="", max_length=64, verbose_name="look-up tag"),
            preserve_default=False,
        ),
        migrations.RunPython(collapse_entries, migrations.RunPython.noop),
        migrations.RemoveIndex(model_name="boxentry", name="boxentry_poll"),
        migrations.AlterField(
            model_name="boxentry",
            name="community",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="community.community",
            ),
        ),
        migrations.AlterField(
            model_name="boxentry",
            name="poll",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="box_entries",
                to="polls.poll",
            ),
        ),
        migrations.AddConstraint(
            model_name="boxentry",
            constraint=models.UniqueConstraint(
                fields=("community", "poll", "tag"), name="boxentry_one_per_ballot"
            ),
        ),
    ]
