"""The database backs the seat rules: constraints refuse what the services never write."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from events.models import Event, Registration, RegistrationStatus
from tests.events.conftest import sign_up

pytestmark = pytest.mark.django_db


def test_the_seat_counter_cannot_pass_the_capacity(make_event):
    event = make_event(capacity=2)
    with pytest.raises(IntegrityError), transaction.atomic():
        Event.objects.filter(pk=event.pk).update(seats_taken=3)


def test_the_guard_refuses_without_touching_the_row(make_event):
    from events import seats
    from events.services import EVENT_SEATS

    event = make_event(capacity=2)
    assert seats.take(EVENT_SEATS, pk=event.pk, n=2) == 2
    assert seats.take(EVENT_SEATS, pk=event.pk, n=1) is None
    event.refresh_from_db()
    assert event.seats_taken == 2


def test_a_registration_holds_seats_only_while_confirmed_or_offered(make_event, member):
    event = make_event(capacity=5, max_guests=2)
    reg = sign_up(member[0], event, guests=2)
    with pytest.raises(IntegrityError), transaction.atomic():
        Registration.objects.filter(pk=reg.pk).update(seats=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        Registration.objects.filter(pk=reg.pk).update(status=RegistrationStatus.CANCELLED)


def test_one_registration_per_member_and_waitlist_places_are_unique(make_event, make_member):
    event = make_event(capacity=1)
    a, b, c = (make_member()[0] for _ in range(3))
    sign_up(a, event)
    rb = sign_up(b, event)
    rc = sign_up(c, event)
    with pytest.raises(IntegrityError), transaction.atomic():
        Registration.objects.create(
            community_id=event.community_id, event=event, user=a.user, status="pending"
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        Registration.objects.filter(pk=rc.pk).update(waitlist_seq=rb.waitlist_seq)


def test_an_offer_needs_a_deadline(make_event, make_member):
    event = make_event(capacity=1)
    a, b = make_member()[0], make_member()[0]
    sign_up(a, event)
    rb = sign_up(b, event)
    with pytest.raises(IntegrityError), transaction.atomic():
        Registration.objects.filter(pk=rb.pk).update(status="offered", seats=1)
