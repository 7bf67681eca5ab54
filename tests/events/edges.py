"""Helpers of the tests of the edges of events (check-in, calendar files, 接龙 text, share):
events and registrations written as rows, in the states the sign-up services leave them."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from events.models import Event, EventMode, Registration, RegistrationStatus


def event_row(community, *, author=None, mode=EventMode.FULL, **kwargs) -> Event:
    start = kwargs.pop("starts_at", timezone.now() + timedelta(days=2))
    values = {
        "title": "周六爬山",
        "starts_at": start,
        "ends_at": start + timedelta(hours=4),
        "signup_opens_at": start - timedelta(days=7),
    }
    values.update(kwargs)
    return Event.objects.create(community=community, author=author, mode=mode, **values)


def register(event: Event, user, *, status=RegistrationStatus.CONFIRMED, guests=0, **kwargs):
    seats = (
        1 + guests if status in (RegistrationStatus.CONFIRMED, RegistrationStatus.OFFERED) else 0
    )
    if status == RegistrationStatus.WAITLISTED:
        event.waitlist_seq += 1
        event.save(update_fields=["waitlist_seq"])
        kwargs.setdefault("waitlist_seq", event.waitlist_seq)
    if status == RegistrationStatus.OFFERED:
        kwargs.setdefault("offer_expires_at", timezone.now() + timedelta(hours=12))
    registration = Registration.objects.create(
        community=event.community,
        event=event,
        user=user,
        status=status,
        guests=guests,
        guests_wanted=guests,
        seats=seats,
        **kwargs,
    )
    if seats:
        Event.objects.filter(pk=event.pk).update(seats_taken=event.seats_taken + seats)
        event.refresh_from_db()
    return registration
