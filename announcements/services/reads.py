"""Read confirmation: members confirm (idempotent); the author and admins remind those who
have not, once."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from announcements.models import Announcement, AnnouncementRead, AnnouncementStatus
from announcements.services.announcements import audience_ids
from announcements.services.common import NOTIFY_REMINDER, announcement_for, announcement_page
from community.authz import Action, ensure
from community.errors import Conflict
from community.models import Membership
from community.services.notifications import notification_enqueue_many


def announcement_mark_read(*, membership: Membership, announcement: Announcement) -> None:
    """Record that the member opened the announcement (for the read rate); once per member,
    a second open writes nothing."""
    if membership.pk is None:
        return
    AnnouncementRead.objects.bulk_create(
        [
            AnnouncementRead(
                community_id=announcement.community_id,
                announcement=announcement,
                membership=membership,
            )
        ],
        ignore_conflicts=True,
    )


def announcement_confirm(*, membership: Membership, announcement_id: str) -> AnnouncementRead:
    """Confirm I have read an announcement that asks for it (409 ``confirmation_not_asked``
    otherwise). Idempotent: a second confirmation keeps the first time."""
    ensure(membership, Action.VIEW)
    announcement = announcement_for(viewer=membership, announcement_id=announcement_id)
    if not announcement.requires_confirmation:
        raise Conflict(
            _("This announcement does not ask for a read confirmation."),
            code="confirmation_not_asked",
        )
    now = timezone.now()
    with transaction.atomic():
        announcement_mark_read(membership=membership, announcement=announcement)
        AnnouncementRead.objects.filter(
            community_id=announcement.community_id,
            announcement=announcement,
            membership=membership,
            confirmed_at__isnull=True,
        ).update(confirmed_at=now)
    return AnnouncementRead.objects.get(
        community_id=announcement.community_id, announcement=announcement, membership=membership
    )


def announcement_remind(*, actor: Membership, announcement_id: str) -> int:
    """Remind the members who have not confirmed yet, once per announcement: the first call
    queues the reminder (returns how many), a second answers 409 ``already_reminded``. The
    claim is one conditional UPDATE, so two admins at once remind once."""
    ensure(actor, Action.MANAGE_ANNOUNCEMENTS)
    announcement = announcement_for(viewer=actor, announcement_id=announcement_id)
    if not announcement.requires_confirmation:
        raise Conflict(
            _("This announcement does not ask for a read confirmation."),
            code="confirmation_not_asked",
        )
    now = timezone.now()
    if announcement.status_at(now) != AnnouncementStatus.PUBLISHED:
        raise Conflict(_("This announcement is not published."), code="not_published")
    with transaction.atomic():
        claimed = Announcement.objects.filter(pk=announcement.pk, reminded_at__isnull=True).update(
            reminded_at=now
        )
        if not claimed:
            raise Conflict(
                _("Those who have not confirmed were already reminded."), code="already_reminded"
            )
        confirmed = AnnouncementRead.objects.filter(
            community_id=announcement.community_id,
            announcement=announcement,
            confirmed_at__isnull=False,
        ).values_list("membership__user_id", flat=True)
        recipients = set(audience_ids(announcement)) - set(confirmed)
        queued = notification_enqueue_many(
            community_id=announcement.community_id,
            recipient_ids=recipients,
            kind=NOTIFY_REMINDER,
            object_key=f"announcement:{announcement.pk}",
            data={"thing1": announcement.title[:20], "thing2": str(_("Please confirm"))[:20]},
            page=announcement_page(announcement.pk),
        )
    return len(queued)
