"""Creating, editing and cancelling events; their organizers; reminders before the start."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from community.authz import Action, can
from community.errors import Conflict, DomainError, Forbidden, NotFound
from community.locking import lock_rows
from community.models import Membership, MembershipStatus
from community.services.content import (
    PASS,
    content_change_passed,
    content_hold_for_review,
    content_screen,
)
from community.services.notifications import notification_enqueue_many
from community.text import member_text
from community.timezones import localize
from events import signup_store
from events.forms import form_clean
from events.models import (
    LIVE,
    MAX_GUESTS_LIMIT,
    Event,
    EventMode,
    EventOrganizer,
    Registration,
    RegistrationStatus,
)
from events.services.common import (
    NOTIFY_REMINDER,
    event_object_key,
    event_of,
    event_page,
    locked_event,
    require_manage,
)
from events.services.notify import notify_cancelled, notify_changed
from events.services.waitlist import promote_locked

logger = logging.getLogger(__name__)

MAX_OFFER_HOURS = 7 * 24
MAX_REMINDER_HOURS = 14 * 24
MAX_REMINDERS = 4
TITLE_MAX_LENGTH = Event._meta.get_field("title").max_length

#: Fields ``event_update`` changes; those members are told about when they change.
EDITABLE = {
    "title",
    "description",
    "location_name",
    "location_address",
    "latitude",
    "longitude",
    "starts_at",
    "ends_at",
    "signup_opens_at",
    "signup_closes_at",
    "cancel_deadline",
    "capacity",
    "max_guests",
    "fee_note",
    "cover_url",
    "requires_approval",
    "attendees_visible",
    "waitlist_offers",
    "offer_hours",
    "reminder_hours",
    "form",
    "self_checkin_enabled",
    "self_checkin_opens_at",
    "self_checkin_closes_at",
}
ANNOUNCED = {"starts_at", "ends_at", "location_name", "location_address", "latitude", "longitude"}
SCREENED = ("title", "description", "location_name", "location_address", "fee_note")
#: Settings a quick 接龙 does not have (it is a title, a time and a list).
FULL_ONLY = {"form", "requires_approval"}


def _clean_texts(values: dict[str, Any]) -> None:
    for name, multiline, limit in (
        ("title", False, TITLE_MAX_LENGTH),
        ("description", True, None),
        ("location_name", False, 200),
        ("location_address", False, 300),
        ("fee_note", False, 200),
    ):
        if name in values:
            values[name] = member_text(
                values[name] or "",
                field=name,
                multiline=multiline,
                blank=name != "title",
                max_length=limit,
            )


def _clean_reminders(hours: Any) -> list[int]:
    if hours is None:
        return []
    if not isinstance(hours, list | tuple) or len(hours) > MAX_REMINDERS:
        raise DomainError(
            _("Give at most %(n)d reminder times.") % {"n": MAX_REMINDERS},
            code="invalid_reminders",
            field="reminder_hours",
        )
    cleaned = set()
    for value in hours:
        if isinstance(value, bool) or not isinstance(value, int):
            raise DomainError(
                _("Reminder times are whole hours before the start."),
                code="invalid_reminders",
                field="reminder_hours",
            )
        if not 1 <= value <= MAX_REMINDER_HOURS:
            raise DomainError(
                _("A reminder is between 1 hour and 14 days before the start."),
                code="invalid_reminders",
                field="reminder_hours",
            )
        cleaned.add(value)
    return sorted(cleaned, reverse=True)


def _validate(event: Event, now: datetime, *, check_future: bool) -> None:
    """Raise ``DomainError`` (with the field) when the settings do not make a valid event."""
    if check_future and event.starts_at <= now:
        raise DomainError(
            _("The event must start in the future."), code="starts_in_past", field="starts_at"
        )
    if event.ends_at is not None and event.ends_at <= event.starts_at:
        raise DomainError(
            _("The event must end after it starts."), code="ends_before_start", field="ends_at"
        )
    if event.signup_closes_at is not None and (
        event.signup_closes_at <= event.signup_opens_at or event.signup_closes_at > event.ends
    ):
        raise DomainError(
            _("Sign-up must close after it opens and before the event ends."),
            code="invalid_signup_window",
            field="signup_closes_at",
        )
    if event.signup_opens_at >= event.ends:
        raise DomainError(
            _("Sign-up must open before the event ends."),
            code="invalid_signup_window",
            field="signup_opens_at",
        )
    if event.capacity is not None and event.capacity < 1:
        raise DomainError(
            _("The capacity is at least one seat (or empty: unlimited)."),
            code="invalid_capacity",
            field="capacity",
        )
    if not 0 <= event.max_guests <= MAX_GUESTS_LIMIT:
        raise DomainError(
            _("A member can bring between 0 and %(n)d guests.") % {"n": MAX_GUESTS_LIMIT},
            code="invalid_max_guests",
            field="max_guests",
        )
    if not 1 <= event.offer_hours <= MAX_OFFER_HOURS:
        raise DomainError(
            _("The claim window of an offer is between 1 hour and 7 days."),
            code="invalid_offer_hours",
            field="offer_hours",
        )
    for name, low, high in (("latitude", -90, 90), ("longitude", -180, 180)):
        value = getattr(event, name)
        if value is not None and not Decimal(low) <= Decimal(value) <= Decimal(high):
            raise DomainError(
                _("The coordinates are not on the map."), code="invalid_location", field=name
            )
    if event.mode == EventMode.QUICK and (event.form or event.requires_approval):
        raise DomainError(
            _("A quick sign-up list has no form and no approval; make it a full event."),
            code="quick_event_limits",
            field="mode",
        )


def event_create(
    *,
    actor: Membership,
    title: str,
    starts_at: datetime,
    mode: str = EventMode.QUICK,
    organizer_user_ids: list[str] | None = None,
    **settings: Any,
) -> Event:
    """Create an event in ``actor``'s community. A quick 接龙 is for members when the
    community allows it (``members_can_create_events``) and moderators; a full event is for
    moderators. The creator becomes its first organizer; ``organizer_user_ids`` adds others
    (active members of the community). Title and texts pass the content check first."""
    unknown = set(settings) - EDITABLE
    if unknown:
        raise ValueError(f"not settable: {sorted(unknown)}")
    action = Action.CREATE_QUICK_EVENT if mode == EventMode.QUICK else Action.CREATE_EVENT
    if mode not in EventMode.values:
        raise DomainError(_("Unknown event mode."), code="invalid_mode", field="mode")
    if not can(actor, action):
        raise Forbidden(
            _("You may not create this kind of event in this community."),
            code="cannot_create_event",
        )
    values = {"title": title, **settings}
    _clean_texts(values)
    if "reminder_hours" in values:
        values["reminder_hours"] = _clean_reminders(values["reminder_hours"])
    if "form" in values:
        values["form"] = form_clean(values["form"])
    now = timezone.now()
    event = Event(community=actor.community, author=actor.user, mode=mode, starts_at=starts_at)
    for name, value in values.items():
        setattr(event, name, value)
    if event.signup_opens_at is None:
        event.signup_opens_at = now
    if mode == EventMode.QUICK:
        event.attendees_visible = True
    _validate(event, now, check_future=True)
    verdict = content_screen(
        texts={name: getattr(event, name) or "" for name in SCREENED}, user=actor.user
    )
    extra = _organizer_memberships(actor, organizer_user_ids or [])
    with transaction.atomic():
        event.created_at = event.updated_at = now
        event.save(force_insert=True)
        EventOrganizer.objects.bulk_create(
            [
                EventOrganizer(
                    community_id=event.community_id,
                    event=event,
                    user_id=user_id,
                    added_by_id=actor.user_id,
                )
                for user_id in sorted({actor.user_id, *extra})
            ]
        )
        content_hold_for_review(
            verdict=verdict,
            community_id=event.community_id,
            target_kind="event",
            target_id=event.pk,
            author_id=actor.user_id,
        )
    return event


def _organizer_memberships(actor: Membership, user_ids: list[str]) -> set[str]:
    found = set(
        Membership.objects.filter(
            community_id=actor.community_id,
            user_id__in=user_ids,
            status=MembershipStatus.ACTIVE,
        ).values_list("user_id", flat=True)
    )
    missing = set(user_ids) - found
    if missing:
        raise DomainError(
            _("Organizers must be active members of the community."),
            code="organizer_not_member",
            field="organizer_user_ids",
        )
    return found


def _live_user_ids(event: Event) -> list[int]:
    return list(
        Registration.objects.filter(
            community_id=event.community_id, event_id=event.pk, status__in=LIVE
        ).values_list("user_id", flat=True)
    )


def event_update(*, actor: Membership, event_id: str, **changes: Any) -> Event:
    """Edit an event (its organizers or moderators). A change of time or place is announced
    to everyone registered and waitlisted (one outbox message per change). A capacity below
    the seats already taken is refused (409 ``capacity_below_taken``); a higher one (or
    fewer guests per member) frees seats for the line in the same transaction. New texts are
    screened first: risky refuses (400 ``content_risky``); "review" or WeChat unreachable
    hold them in the moderation queue (``event_texts``) while members see the old ones, until
    a moderator or the re-check releases them (a released place is announced then)."""
    unknown = set(changes) - EDITABLE
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    _clean_texts(changes)
    if "reminder_hours" in changes:
        changes["reminder_hours"] = _clean_reminders(changes["reminder_hours"])
    if "form" in changes:
        changes["form"] = form_clean(changes["form"])
    current = event_of(actor, event_id)
    require_manage(actor, current)
    texts = {
        name: changes[name]
        for name in SCREENED
        if changes.get(name) and changes[name] != getattr(current, name)
    }
    # Screened before the transaction; new texts WeChat did not pass wait in the queue while
    # the event keeps its old ones (the rest of the change is applied at once).
    verdict = content_screen(texts=texts, user=actor.user)
    held = {name: changes.pop(name) for name in texts} if verdict != PASS else {}
    now = timezone.now()
    with transaction.atomic():
        event = locked_event(actor.community_id, event_id)
        require_manage(actor, event)
        if event.cancelled_at is not None:
            raise Conflict(_("This event was cancelled."), code="event_cancelled")
        changed = {k for k, v in changes.items() if getattr(event, k) != v}
        for name in changed:
            setattr(event, name, changes[name])
        _validate(event, now, check_future="starts_at" in changed)
        if (
            "capacity" in changed
            and event.capacity is not None
            and event.capacity < event.seats_taken
        ):
            raise Conflict(
                _("%(n)d seats are already taken; the capacity cannot go below that.")
                % {"n": event.seats_taken},
                code="capacity_below_taken",
            )
        announce = bool(changed & ANNOUNCED)
        if announce:
            event.change_version += 1
            changed.add("change_version")
        event.updated_at = now
        # Never a full save: the seat counters are moved by SQL only (events/seats.py).
        event.save(update_fields=sorted(changed | {"updated_at"}))
        if "capacity" in changed:
            promote_locked(event, now)
        if announce:
            notify_changed(event, _live_user_ids(event))
        if held:
            content_hold_for_review(
                verdict=verdict,
                community_id=event.community_id,
                target_kind="event_texts",
                target_id=event.pk,
                author_id=actor.user_id,
                pending=held,
            )
        elif texts:
            content_change_passed(
                community_id=event.community_id,
                target_kind="event_texts",
                target_id=event.pk,
                fields=set(texts),
            )
    return event


def event_texts_release(*, target_id: str, pending: dict) -> None:
    """Apply a held change of an event's texts once a moderator or WeChat's re-check released
    it (inside the releasing transaction): a new place is announced to everyone registered
    and waitlisted, as :func:`event_update` announces an unheld one. A cancelled event only
    takes the texts."""
    event = lock_rows(Event.objects.select_related("community").filter(pk=target_id)).first()
    if event is None:
        return
    changed = {name for name, value in pending.items() if getattr(event, name) != value}
    for name in changed:
        setattr(event, name, pending[name])
    announce = bool(changed & ANNOUNCED) and event.cancelled_at is None
    if announce:
        event.change_version += 1
        changed.add("change_version")
    if changed:
        event.updated_at = timezone.now()
        event.save(update_fields=sorted(changed | {"updated_at"}))
    if announce:
        notify_changed(event, _live_user_ids(event))


def event_cancel(*, actor: Membership, event_id: str, reason: str = "") -> Event:
    """Cancel an event (its organizers or moderators): everyone registered or waitlisted is
    told once. Registrations are kept as they were, for the record. The reason is screened
    first: risky refuses (nothing cancelled); a reason WeChat wants reviewed, or could not
    check, does not hold the cancellation back: the event is cancelled without a reason
    shown, and the reason waits in the queue (``event_texts``) until released."""
    reason = member_text(reason or "", field="reason", blank=True, max_length=300)
    verdict = content_screen(texts={"reason": reason}, user=actor.user) if reason else PASS
    held = {"cancel_reason": reason} if verdict != PASS else {}
    now = timezone.now()
    with transaction.atomic():
        event = locked_event(actor.community_id, event_id)
        require_manage(actor, event)
        if event.cancelled_at is not None:
            return event
        event.cancelled_at = now
        event.cancel_reason = "" if held else reason
        event.change_version += 1
        event.save(update_fields=["cancelled_at", "cancel_reason", "change_version"])
        notify_cancelled(event, _live_user_ids(event))
        if held:
            content_hold_for_review(
                verdict=verdict,
                community_id=event.community_id,
                target_kind="event_texts",
                target_id=event.pk,
                author_id=actor.user_id,
                pending=held,
            )
    return event


def organizer_add(*, actor: Membership, event_id: str, user_id: str) -> EventOrganizer:
    """An organizer (or moderator) adds an active member as an organizer (idempotent)."""
    event = event_of(actor, event_id)
    require_manage(actor, event)
    _organizer_memberships(actor, [user_id])
    organizer, _created = EventOrganizer.objects.get_or_create(
        community_id=event.community_id,
        event=event,
        user_id=user_id,
        defaults={"added_by_id": actor.user_id},
    )
    return organizer


def organizer_remove(*, actor: Membership, event_id: str, user_id: str) -> None:
    """Remove an organizer; the creator stays organizer (their authorship is the record)."""
    event = event_of(actor, event_id)
    require_manage(actor, event)
    if user_id == event.author_id:
        raise Conflict(_("The creator of an event stays its organizer."), code="creator_stays")
    with transaction.atomic():
        rows = lock_rows(
            EventOrganizer.objects.filter(
                community_id=event.community_id, event=event, user_id=user_id
            ),
            for_delete=True,
        )
        if not rows:
            raise NotFound(_("Organizer not found."))
        rows.delete()


# --- reminders ------------------------------------------------------------------------------
def _due_round(event: Event, now: datetime) -> int | None:
    """The reminder round of ``event`` due now: the latest round whose time has come (an
    event created 3 hours before its start gets the 2-hour reminder, not the 24-hour one);
    rounds that fell due before the event existed are skipped."""
    due = [
        hours
        for hours in event.reminder_hours or []
        if event.starts_at - timedelta(hours=hours) <= now
        and event.starts_at - timedelta(hours=hours) >= event.created_at
    ]
    return min(due) if due else None


def event_remind(*, event_id: str, now: datetime | None = None) -> int:
    """Queue the due reminder round to everyone confirmed (once per member, round and start
    time: an event moved to another day reminds again). Returns how many were queued now."""
    now = now or timezone.now()
    event = Event.objects.select_related("community").filter(pk=event_id).first()
    if event is None or event.cancelled_at is not None or now >= event.starts_at:
        return 0
    hours = _due_round(event, now)
    if hours is None:
        return 0
    recipients = Registration.objects.filter(
        community_id=event.community_id,
        event_id=event.pk,
        status=RegistrationStatus.CONFIRMED,
    ).values_list("user_id", flat=True)
    with transaction.atomic():
        queued = notification_enqueue_many(
            community_id=event.community_id,
            recipient_ids=recipients,
            kind=NOTIFY_REMINDER,
            object_key=event_object_key(event.pk),
            data={
                "thing1": event.title[:20],
                "time2": localize(event.starts_at, event.community).strftime("%Y-%m-%d %H:%M"),
                "thing3": (event.location_name or "-")[:20],
            },
            page=event_page(event.pk),
            dedupe_key=f"{NOTIFY_REMINDER}:{event.pk}:{int(event.starts_at.timestamp())}:{hours}h",
        )
        # A cancellation racing the reminders: the last statement share-locks the event
        # while checking it is still on, so a cancel either committed first (roll back) or
        # waits for these reminders.
        if queued and not signup_store.event_still_on(event.pk):
            transaction.set_rollback(True)
            return 0
    return len(queued)


def events_remind_due(*, now: datetime | None = None) -> int:
    """Sweep: queue the due reminder round of every event starting within the longest
    reminder window."""
    now = now or timezone.now()
    candidates = Event.objects.filter(
        cancelled_at__isnull=True,
        starts_at__gt=now,
        starts_at__lte=now + timedelta(hours=MAX_REMINDER_HOURS),
    ).values_list("pk", flat=True)
    return sum(event_remind(event_id=event_id, now=now) for event_id in candidates)
