"""Announcements: what the admins and the content role publish to the whole community, in
categories members follow, with an optional read confirmation.

Why its own app: announcements, their categories, follows and reads are a subsystem with their
own tables, API, admin and job; the community core keeps the rules and the newcomers (which
live on the community and its memberships)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from community.ids import PublicIdField
from community.models import Community, Membership

#: The categories every community starts with; its admins may rename, add or delete them.
DEFAULT_CATEGORIES = ("行业资讯", "知识分享", "热点话题", "活动通知")
TITLE_MAX = 100


class Category(models.Model):
    """A category of announcements (行业资讯, 知识分享, ...), per community and editable.
    Members follow every category unless they unfollow it (:class:`CategoryUnfollow`), so a
    new category reaches everyone."""

    id = PublicIdField()
    community = models.ForeignKey(
        Community, on_delete=models.CASCADE, related_name="announcement_categories"
    )
    name = models.CharField(_("name"), max_length=20)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("announcement category")
        verbose_name_plural = _("announcement categories")
        ordering = ["position", "created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["community", "name"], name="announcement_category_unique_name"
            )
        ]

    def __str__(self) -> str:
        return self.name


class CategoryUnfollow(models.Model):
    """A member who does not follow a category (the default is to follow all): its
    announcements leave their list and they are not notified of new ones."""

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="+")
    membership = models.ForeignKey(
        Membership, on_delete=models.CASCADE, related_name="category_unfollows"
    )
    category = models.ForeignKey(Category, on_delete=models.CASCADE, related_name="unfollows")
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("unfollowed category")
        verbose_name_plural = _("unfollowed categories")
        constraints = [
            models.UniqueConstraint(
                fields=["community", "membership", "category"],
                name="category_unfollow_one_per_member",
            )
        ]

    def __str__(self) -> str:
        return f"{self.membership_id} - {self.category_id}"


class Announcement(models.Model):
    """A post to the whole community: a title, a body in a safe rich-text subset (sanitized
    when stored, ``announcements.sanitize``), a category, a cover, pinned or not.

    Published is computed from the clock: members see it from ``publish_at`` (now, or a
    scheduled time) until ``expires_at``. The ``announcements-publish`` job notifies the
    followers of its category once it is published (``notified_at``). ``requires_confirmation``
    asks members to confirm they have read it; ``reminded_at`` records the one reminder to
    those who have not."""

    id = PublicIdField()
    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="+")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("author"),
    )
    category = models.ForeignKey(
        Category,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="announcements",
        verbose_name=_("category"),
    )
    title = models.CharField(_("title"), max_length=TITLE_MAX)
    body = models.TextField(_("body"), blank=True, default="")
    cover_url = models.URLField(_("cover image URL"), max_length=500, blank=True, default="")
    pinned = models.BooleanField(_("pinned"), default=False)
    publish_at = models.DateTimeField(_("publish at"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    requires_confirmation = models.BooleanField(_("asks for read confirmation"), default=False)
    notified_at = models.DateTimeField(_("followers notified at"), null=True, blank=True)
    reminded_at = models.DateTimeField(_("reminder sent at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    class Meta:
        verbose_name = _("announcement")
        verbose_name_plural = _("announcements")
        ordering = ["-publish_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_at__isnull=True) | Q(expires_at__gt=F("publish_at")),
                name="announcement_expires_after_publish",
            )
        ]
        indexes = [
            models.Index(fields=["community", "-pinned", "-publish_at"]),
            models.Index(fields=["notified_at", "publish_at"]),
        ]

    def __str__(self) -> str:
        return self.title

    def status_at(self, now) -> str:
        """``scheduled``, ``published`` or ``expired`` at ``now``."""
        if self.publish_at > now:
            return AnnouncementStatus.SCHEDULED
        if self.expires_at is not None and self.expires_at <= now:
            return AnnouncementStatus.EXPIRED
        return AnnouncementStatus.PUBLISHED


class AnnouncementStatus(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    PUBLISHED = "published", _("Published")
    EXPIRED = "expired", _("Expired")


class AnnouncementRead(models.Model):
    """A member opened an announcement (``read_at``) and, when it asks for it, confirmed they
    have read it (``confirmed_at``). One row per member and announcement."""

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="+")
    announcement = models.ForeignKey(Announcement, on_delete=models.CASCADE, related_name="reads")
    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="+")
    read_at = models.DateTimeField(_("read at"), default=timezone.now)
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("announcement read")
        verbose_name_plural = _("announcement reads")
        constraints = [
            models.UniqueConstraint(
                fields=["community", "announcement", "membership"],
                name="announcement_read_one_per_member",
            )
        ]

    def __str__(self) -> str:
        return f"{self.announcement_id} / {self.membership_id}"
