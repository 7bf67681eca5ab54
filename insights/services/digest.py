"""The weekly digest: every Monday from 08:00 in each community's time zone, one subscribe
message per admin (admins and the owner) through the outbox, once per admin and ISO week (the
dedupe key names the week), so an hourly job may run as often as it likes."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from community.models import Community, Notification
from community.services.notifications import notification_enqueue_many
from community.timezones import community_zone
from insights import selectors
from insights.digest import digest_week, weekly_digest

KIND = "weekly_digest"
#: The digest goes out from this local hour on Mondays (weekday 0).
SEND_WEEKDAY = 0
SEND_HOUR = 8


def digest_due(*, community: Community, now: datetime) -> bool:
    """Monday, from ``SEND_HOUR`` on, in the community's time zone."""
    local = now.astimezone(community_zone(community))
    return local.weekday() == SEND_WEEKDAY and local.hour >= SEND_HOUR


def weekly_digests_send(*, now: datetime | None = None) -> int:
    """Queue the digest to each admin of every community where it is due and not yet queued
    this week; returns how many messages were queued now."""
    now = now or timezone.now()
    queued = 0
    for community in Community.objects.all().only("id", "name", "time_zone").order_by("id"):
        if not digest_due(community=community, now=now):
            continue
        week = digest_week(selectors.local_today(community, now))
        dedupe_key = f"{KIND}:{week}"
        admins = set(selectors.admins_of(community).values_list("user_id", flat=True))
        admins -= set(
            Notification.objects.filter(
                community_id=community.pk, dedupe_key=dedupe_key, recipient_id__in=admins
            ).values_list("recipient_id", flat=True)
        )
        if not admins:
            continue  # sent already (or nobody to send to): no figures computed again
        figures = weekly_digest(community=community, now=now)
        summary = _("%(active)d active (%(change)+d), %(tasks)d overdue tasks") % {
            "active": figures["active_members"],
            "change": figures["active_change"],
            "tasks": figures["overdue_task_count"],
        }
        with transaction.atomic():
            queued += len(
                notification_enqueue_many(
                    community_id=community.pk,
                    recipient_ids=admins,
                    kind=KIND,
                    object_key=f"digest:{week}",
                    dedupe_key=dedupe_key,
                    data={"thing1": community.name[:20], "thing2": summary[:20]},
                    page=f"pages/insights/digest?id={community.pk}",
                )
            )
    return queued
