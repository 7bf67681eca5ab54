"""Writing announcements and telling the followers of their category, once."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from announcements.models import TITLE_MAX, Announcement, CategoryUnfollow
from announcements.sanitize import clean_body, plain_text
from announcements.services.categories import category_get
from announcements.services.common import (
    NOTIFY_PUBLISHED,
    TARGET_KIND,
    announcement_page,
    is_held,
)
from community.authz import VISIBLE_STATUSES, Action, ensure
from community.errors import DomainError, NotFound
from community.locking import lock_rows
from community.models import Membership
from community.services.content import content_hold_for_review, content_screen
from community.services.notifications import notification_enqueue_many
from community.text import member_text

BODY_MAX = 20000
EDITABLE = frozenset(
    {
        "title",
        "body",
        "category_id",
        "cover_url",
        "pinned",
        "publish_at",
        "expires_at",
        "requires_confirmation",
    }
)


def _clean(fields: dict[str, Any], *, community_id: str) -> dict[str, Any]:
    """Normal form of the writable fields; refuses what cannot be stored (400 naming the field)."""
    out = dict(fields)
    if "title" in out:
        out["title"] = member_text(out["title"], field="title", max_length=TITLE_MAX)
    if "body" in out:
        out["body"] = clean_body(out["body"] or "")
        if len(out["body"]) > BODY_MAX:
            raise DomainError(
                _("Ensure this text has no more than %(n)d characters.") % {"n": BODY_MAX},
                code="max_length",
                field="body",
            )
    if "cover_url" in out:
        url = (out["cover_url"] or "").strip()
        if url and not url.startswith("https://"):
            raise DomainError(
                _("The cover image must be an https address."),
                code="cover_not_https",
                field="cover_url",
            )
        out["cover_url"] = url
    if out.get("category_id"):
        category_get(community_id=community_id, category_id=out["category_id"])
    elif "category_id" in out:
        out["category_id"] = None
    return out


def _check_times(announcement: Announcement) -> None:
    if announcement.expires_at is not None and announcement.expires_at <= announcement.publish_at:
        raise DomainError(
            _("The expiry must come after the publish time."),
            code="expires_before_publish",
            field="expires_at",
        )


def _screen(actor: Membership, fields: dict[str, Any]) -> str:
    texts = {}
    if "title" in fields:
        texts["title"] = fields["title"]
    if "body" in fields:
        texts["body"] = plain_text(fields["body"])
    return content_screen(texts=texts, user=actor.user)


def announcement_create(
    *,
    actor: Membership,
    title: str,
    body: str = "",
    category_id: str | None = None,
    cover_url: str = "",
    pinned: bool = False,
    publish_at: datetime | None = None,
    expires_at: datetime | None = None,
    requires_confirmation: bool = False,
) -> Announcement:
    """Publish (or schedule, with a future ``publish_at``) an announcement. The admin tiers and
    holders of the publish-content capability. The title and the body's text are screened by
    WeChat before the transaction; "review" or an unreachable WeChat stores it held in the
    moderation queue (members see it once a moderator restores it). The followers of its
    category are notified once it is published and not held (now, or by the job)."""
    ensure(actor, Action.MANAGE_ANNOUNCEMENTS)
    fields = _clean(
        {
            "title": title,
            "body": body,
            "category_id": category_id,
            "cover_url": cover_url,
        },
        community_id=actor.community_id,
    )
    now = timezone.now()
    announcement = Announcement(
        community_id=actor.community_id,
        author_id=actor.user_id,
        pinned=pinned,
        publish_at=publish_at or now,
        expires_at=expires_at,
        requires_confirmation=requires_confirmation,
        created_at=now,
        updated_at=now,
        **fields,
    )
    _check_times(announcement)
    verdict = _screen(actor, fields)
    with transaction.atomic():
        announcement.save(force_insert=True)
        held = content_hold_for_review(
            verdict=verdict,
            community_id=actor.community_id,
            target_kind=TARGET_KIND,
            target_id=announcement.pk,
            author_id=actor.user_id,
        )
        if not held and announcement.publish_at <= now:
            _notify_followers(announcement, now=now)
    return announcement


def announcement_update(*, actor: Membership, announcement_id: str, **fields: Any) -> Announcement:
    """Edit an announcement; changed texts are screened again (and held like a new one)."""
    ensure(actor, Action.MANAGE_ANNOUNCEMENTS)
    unknown = set(fields) - EDITABLE
    if unknown:
        raise DomainError(_("This field cannot be changed."), field=sorted(unknown)[0])
    fields = _clean(fields, community_id=actor.community_id)
    current = _get(actor, announcement_id)
    changed_texts = {
        name: value
        for name, value in fields.items()
        if name in ("title", "body") and getattr(current, name) != value
    }
    verdict = _screen(actor, changed_texts)
    with transaction.atomic():
        announcement = lock_rows(
            Announcement.objects.filter(community_id=actor.community_id, pk=announcement_id)
        ).first()
        if announcement is None:
            raise NotFound(_("Announcement not found."), code="announcement_not_found")
        for name, value in fields.items():
            setattr(announcement, name, value)
        if fields.get("publish_at") is None and "publish_at" in fields:
            announcement.publish_at = current.publish_at
        _check_times(announcement)
        announcement.updated_at = timezone.now()
        announcement.save()
        content_hold_for_review(
            verdict=verdict,
            community_id=actor.community_id,
            target_kind=TARGET_KIND,
            target_id=announcement.pk,
            author_id=actor.user_id,
        )
    return announcement


def announcement_delete(*, actor: Membership, announcement_id: str) -> None:
    """Delete an announcement with its reads."""
    ensure(actor, Action.MANAGE_ANNOUNCEMENTS)
    _get(actor, announcement_id).delete()


def _get(actor: Membership, announcement_id: str) -> Announcement:
    announcement = Announcement.objects.filter(
        community_id=actor.community_id, pk=announcement_id
    ).first()
    if announcement is None:
        raise NotFound(_("Announcement not found."), code="announcement_not_found")
    return announcement


def audience_ids(announcement: Announcement) -> list[int]:
    """The user ids of the members who follow the announcement's category (everyone when it
    has none): active and muted members without an unfollow of it."""
    members = Membership.objects.filter(
        community_id=announcement.community_id, status__in=[str(s) for s in VISIBLE_STATUSES]
    )
    if announcement.category_id is not None:
        members = members.exclude(
            pk__in=CategoryUnfollow.objects.filter(
                community_id=announcement.community_id, category_id=announcement.category_id
            ).values("membership_id")
        )
    return list(members.values_list("user_id", flat=True))


def _notify_followers(announcement: Announcement, *, now: datetime) -> int:
    """Queue "new announcement" to the category's followers and record it. Call inside a
    transaction; the dedupe key (kind and announcement) keeps it to once per member."""
    queued = notification_enqueue_many(
        community_id=announcement.community_id,
        recipient_ids=audience_ids(announcement),
        kind=NOTIFY_PUBLISHED,
        object_key=f"announcement:{announcement.pk}",
        data={
            "thing1": announcement.title[:20],
            "thing2": (announcement.category.name if announcement.category else "-")[:20],
        },
        page=announcement_page(announcement.pk),
    )
    Announcement.objects.filter(pk=announcement.pk).update(notified_at=now)
    announcement.notified_at = now
    return len(queued)


def announcements_publish_due(*, now: datetime | None = None) -> int:
    """Sweep: notify the followers of announcements whose publish time has come, once. Held
    ones wait until a moderator restores them; expired ones are never announced."""
    now = now or timezone.now()
    from moderation.models import ContentHold  # moderation builds on the core

    held = ContentHold.objects.filter(target_kind=TARGET_KIND).values("target_id")
    due_ids = list(
        Announcement.objects.filter(notified_at__isnull=True, publish_at__lte=now)
        .exclude(expires_at__lte=now)
        .exclude(pk__in=held)
        .order_by("publish_at", "pk")
        .values_list("pk", flat=True)[:200]
    )
    queued = 0
    for announcement_id in due_ids:
        with transaction.atomic():
            announcement = (
                lock_rows(
                    Announcement.objects.filter(pk=announcement_id, notified_at__isnull=True),
                    skip_locked=True,
                )
                .select_related("category")
                .first()
            )
            if announcement is None or is_held(announcement):
                continue
            queued += _notify_followers(announcement, now=now)
    return queued
