"""What the announcement services share: loading one announcement as a member sees it."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone
from django.utils.translation import gettext as _

from announcements.models import Announcement, AnnouncementStatus
from community.authz import Action, can
from community.errors import NotFound
from community.models import Membership

TARGET_KIND = "announcement"
NOTIFY_PUBLISHED = "announcement_published"
NOTIFY_REMINDER = "announcement_reminder"


def announcement_page(announcement_id: str) -> str:
    return f"pages/announcements/detail?id={announcement_id}"


def is_held(announcement: Announcement) -> bool:
    from moderation.services.holds import content_is_held  # moderation builds on the core

    return content_is_held(
        community_id=announcement.community_id, target_kind=TARGET_KIND, target_id=announcement.pk
    )


def announcement_for(
    *, viewer: Membership, announcement_id: str, now: datetime | None = None
) -> Announcement:
    """The announcement as ``viewer`` may see it: managers see every one of their community;
    members only published, unexpired ones not held by moderation. 404 otherwise."""
    announcement = (
        Announcement.objects.filter(community_id=viewer.community_id, pk=announcement_id)
        .select_related("category")
        .first()
    )
    if announcement is None:
        raise NotFound(_("Announcement not found."), code="announcement_not_found")
    if can(viewer, Action.MANAGE_ANNOUNCEMENTS):
        return announcement
    now = now or timezone.now()
    if announcement.status_at(now) != AnnouncementStatus.PUBLISHED or is_held(announcement):
        raise NotFound(_("Announcement not found."), code="announcement_not_found")
    return announcement
