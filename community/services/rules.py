"""Group rules kept alive: the version history with change summaries, and the one reminder a
week after a new version to members who have not accepted it."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from community.models import Community, Membership, MembershipStatus, RulesVersion
from community.services.notifications import notification_enqueue_many
from community.timezones import localize

NOTIFY_RULES_REMINDER = "rules_reminder"
#: How long members have to accept a new version before they are reminded (once).
REMIND_AFTER = timedelta(days=7)


def rules_version_record(*, community: Community, summary: str = "") -> RulesVersion:
    """Record the community's current rules as a published version with its change summary.
    Called inside the transaction that bumped ``community.rules_version`` (the unique
    constraint on ``(community, version)`` backs the one row per version)."""
    return RulesVersion.objects.create(
        community=community,
        version=community.rules_version,
        text=community.rules_text,
        summary=summary,
    )


def rules_remind_due(*, now: datetime | None = None) -> int:
    """Sweep: a week after a version was published, remind every member who was in the
    community then and has not accepted it yet, once. The outbox dedupe key (community and
    version) makes a second run queue nothing; ``reminded_at`` keeps later sweeps from even
    looking at the version. A version replaced by a newer one before its week is up is not
    reminded (the newer one will be). Members who joined after the version was published are
    asked to accept at their first write and get the welcome message instead."""
    now = now or timezone.now()
    due = (
        RulesVersion.objects.filter(reminded_at__isnull=True, published_at__lte=now - REMIND_AFTER)
        .select_related("community")
        .order_by("published_at", "pk")[:200]
    )
    queued = 0
    for version in due:
        community = version.community
        with transaction.atomic():
            if version.version == community.rules_version:
                recipients = Membership.objects.filter(
                    community_id=community.pk,
                    status__in=[MembershipStatus.ACTIVE, MembershipStatus.MUTED],
                    rules_accepted_version__lt=version.version,
                    joined_at__lte=version.published_at,
                ).values_list("user_id", flat=True)
                queued += len(
                    notification_enqueue_many(
                        community_id=community.pk,
                        recipient_ids=list(recipients),
                        kind=NOTIFY_RULES_REMINDER,
                        object_key=f"rules:{community.pk}:{version.version}",
                        data={
                            "thing1": community.name[:20],
                            "thing2": (version.summary or community.name)[:20],
                            "time3": localize(version.published_at, community).strftime(
                                "%Y-%m-%d %H:%M"
                            ),
                        },
                        page=f"pages/community/rules?id={community.pk}",
                    )
                )
            RulesVersion.objects.filter(pk=version.pk).update(reminded_at=now)
    return queued
