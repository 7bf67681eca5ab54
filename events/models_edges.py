"""Models of the edges of events: the calendar feed token and the attendee export.

Kept in their own module (imported at the end of ``events.models``) because they belong to
the .ics feed and the admin's export, not to sign-ups."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from community.exports import ExportBase, export_storage
from community.ids import PublicIdField


class CalendarFeedToken(models.Model):
    """A member's secret address of their community's calendar feed (``.ics``).

    A calendar app subscribes to a URL and polls it for months without any login, so the URL
    itself is the credential: a random 256-bit token, of which only the SHA-256 is stored
    (``community.hashing``), one per member and community. Making a new one revokes the old
    address; deleting it revokes the feed. A member who leaves or is banned loses the feed at
    once, because every read checks that the membership still sees the community."""

    community = models.ForeignKey("community.Community", on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feeds"
    )
    # Unique with the community (Citus: a unique constraint holds the distribution column); a
    # random 256-bit token's hash is unique anyway. Looked up by itself (the feed URL carries
    # nothing else), hence its own index.
    key_hash = models.CharField(_("token hash"), max_length=64, db_index=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    last_used_at = models.DateTimeField(_("last read at"), null=True, blank=True)

    class Meta:
        verbose_name = _("calendar feed")
        verbose_name_plural = _("calendar feeds")
        constraints = [
            models.UniqueConstraint(
                fields=["community", "user"], name="calendarfeed_one_per_member"
            ),
            models.UniqueConstraint(
                fields=["community", "key_hash"], name="calendarfeed_key_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"calendar feed of {self.user_id} in {self.community_id}"


class AttendeeExport(ExportBase):
    """A CSV or XLSX file of an event's registrations with their form answers, written by a
    Celery task through the export machinery every kind shares (``community.exports``:
    streamed with bounded memory, leases and attempts, a private storage, the sweep). Only the
    event's organizers and the moderator tiers request and download it."""

    task_name = "events.export_tasks.run_attendee_export"

    id = PublicIdField()
    event = models.ForeignKey(
        "events.Event", on_delete=models.CASCADE, related_name="exports", verbose_name=_("event")
    )
    file = models.FileField(
        _("file"), upload_to="event-exports/", storage=export_storage, blank=True
    )

    class Meta:
        verbose_name = _("attendee export")
        verbose_name_plural = _("attendee exports")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["status", "heartbeat_at"], name="attendee_export_sweep_idx")
        ]

    def __str__(self) -> str:
        return f"{self.event_id} {self.format} {self.status}"
