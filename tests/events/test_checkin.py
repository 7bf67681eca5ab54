"""Check-in over HTTP: organizers scan tickets, members scan the door code, idempotent,
who checked in whom and when, guests, no-shows, and every refusal."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from community.models import Tier
from events.checkin_tokens import ticket_code
from events.models import CheckIn, CheckInMethod, Event, RegistrationStatus
from events.services.checkin import checkin_by_code
from tests.events.edges import event_row, register
from tests.factories import CommunityFactory, MembershipFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def organizer(make_member):
    return make_member(tier=Tier.MODERATOR)


@pytest.fixture
def event(community, organizer):
    return event_row(community, author=organizer[0].user)


def _ticket(client, event) -> str:
    response = client.get(f"/api/v1/events/{event.pk}/ticket")
    assert response.status_code == 200, response.content
    return response.json()["code"]


def _scan(client, event, code, **extra):
    return client.post(
        f"/api/v1/events/{event.pk}/check-ins", {"code": code, **extra}, format="json"
    )


def _error(response) -> str:
    return response.json()["errors"][0]["code"]


def test_scanning_a_ticket_checks_in_member_and_guests_and_records_who_and_when(
    event, organizer, member
):
    registration = register(event, member[0].user, guests=2)
    response = _scan(organizer[1], event, _ticket(member[1], event))
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["registration_id"] == registration.pk
    assert body["people"] == 3 and body["added"] == 3
    assert [p["guest_index"] for p in body["checked_in"]] == [0, 1, 2]
    assert {p["checked_in_by"] for p in body["checked_in"]} == {organizer[0].user.nickname}
    assert {p["method"] for p in body["checked_in"]} == {"qr"}
    assert body["checked_in"][0]["checked_in_at"].endswith("+08:00")
    rows = CheckIn.objects.filter(registration=registration)
    assert {(r.checked_in_by_id, r.method) for r in rows} == {
        (organizer[0].user_id, CheckInMethod.QR)
    }


def test_replayed_ticket_adds_nothing_and_late_guests_are_added(event, organizer, member):
    register(event, member[0].user, guests=2)
    code = _ticket(member[1], event)
    first = _scan(organizer[1], event, code, guests=0)
    assert first.json()["added"] == 1
    replay = _scan(organizer[1], event, code, guests=0)
    assert replay.status_code == 200 and replay.json()["added"] == 0
    later = _scan(organizer[1], event, code)
    assert later.json()["added"] == 2
    assert CheckIn.objects.filter(event=event).count() == 3


def test_more_guests_than_registered_is_refused(event, organizer, member):
    register(event, member[0].user, guests=1)
    response = _scan(organizer[1], event, _ticket(member[1], event), guests=2)
    assert response.status_code == 400 and _error(response) == "invalid_guests"


def test_ticket_of_another_event_is_refused(community, event, organizer, member):
    other = event_row(community, author=organizer[0].user, title="桌游")
    register(other, member[0].user)
    response = _scan(organizer[1], event, _ticket(member[1], other))
    assert response.status_code == 409 and _error(response) == "wrong_event"
    assert not CheckIn.objects.exists()


def test_ticket_of_another_community_reveals_nothing(event, organizer):
    elsewhere = CommunityFactory()
    stranger = MembershipFactory(community=elsewhere)
    foreign = register(event_row(elsewhere), stranger.user)
    code = ticket_code(
        registration_id=foreign.pk,
        event_secret=foreign.event.checkin_secret,
        registration_secret=foreign.checkin_secret,
    )
    response = _scan(organizer[1], event, code)
    assert response.status_code == 400 and _error(response) == "invalid_code"


def test_forged_and_rotated_tickets_are_refused(event, organizer, member):
    registration = register(event, member[0].user)
    forged = f"t.{registration.pk}.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
    assert _error(_scan(organizer[1], event, forged)) == "invalid_code"
    old = _ticket(member[1], event)
    rotated = organizer[1].post(f"/api/v1/events/{event.pk}/check-in-codes/rotate")
    assert rotated.status_code == 200
    assert _error(_scan(organizer[1], event, old)) == "invalid_code"
    assert _scan(organizer[1], event, _ticket(member[1], event)).status_code == 200


@pytest.mark.parametrize(
    "status",
    [
        RegistrationStatus.CANCELLED,
        RegistrationStatus.WAITLISTED,
        RegistrationStatus.PENDING,
        RegistrationStatus.REJECTED,
        RegistrationStatus.OFFERED,
    ],
)
def test_a_revoked_or_unconfirmed_registration_does_not_check_in(event, organizer, member, status):
    registration = register(event, member[0].user)
    code = _ticket(member[1], event)
    Event.objects.filter(pk=event.pk).update(seats_taken=0)
    registration.status = status
    registration.seats = 1 if status == RegistrationStatus.OFFERED else 0
    if status == RegistrationStatus.WAITLISTED:
        registration.waitlist_seq = 1
    if status == RegistrationStatus.OFFERED:
        registration.offer_expires_at = timezone.now() + timedelta(hours=1)
    registration.save()
    response = _scan(organizer[1], event, code)
    assert response.status_code == 409 and _error(response) == "registration_not_confirmed"
    assert member[1].get(f"/api/v1/events/{event.pk}/ticket").json()["code"] is None


def test_cancelled_event_checks_in_nobody(event, organizer, member):
    register(event, member[0].user)
    code = _ticket(member[1], event)
    Event.objects.filter(pk=event.pk).update(cancelled_at=timezone.now())
    assert _error(_scan(organizer[1], event, code)) == "event_cancelled"


def test_only_organizers_scan(event, member, make_member):
    register(event, member[0].user)
    _other, other_client = make_member()
    response = _scan(other_client, event, _ticket(member[1], event))
    assert response.status_code == 403 and _error(response) == "tier_too_low"


def test_an_added_organizer_scans_without_a_moderator_tier(event, member, make_member):
    from events.models import EventOrganizer

    helper, helper_client = make_member()
    EventOrganizer.objects.create(community=event.community, event=event, user=helper.user)
    register(event, member[0].user)
    assert _scan(helper_client, event, _ticket(member[1], event)).status_code == 200


def test_outsider_gets_404_for_everything(event, member, outsider):
    register(event, member[0].user)
    _user, client = outsider
    for url in ["ticket", "door-code", "no-shows", "calendar.ics", "jielong"]:
        assert client.get(f"/api/v1/events/{event.pk}/{url}").status_code == 404, url
    assert _scan(client, event, _ticket(member[1], event)).status_code == 404


def test_check_in_by_hand_and_undo(event, organizer, member):
    registration = register(event, member[0].user, guests=1)
    response = organizer[1].post(
        f"/api/v1/events/{event.pk}/check-ins",
        {"registration_id": registration.pk},
        format="json",
    )
    assert response.status_code == 200 and response.json()["added"] == 2
    assert set(CheckIn.objects.values_list("method", flat=True)) == {"manual"}
    undo = organizer[1].delete(f"/api/v1/events/{event.pk}/check-ins/{registration.pk}")
    assert undo.status_code == 204
    assert not CheckIn.objects.exists()


def test_code_or_registration_exactly_one(event, organizer):
    response = organizer[1].post(f"/api/v1/events/{event.pk}/check-ins", {}, format="json")
    assert response.status_code == 400


# --- self check-in with the door code --------------------------------------------------------
def _door(organizer, event) -> str:
    response = organizer[1].get(f"/api/v1/events/{event.pk}/door-code")
    assert response.status_code == 200
    return response.json()["code"]


def _self(client, event, code, **extra):
    return client.post(
        f"/api/v1/events/{event.pk}/self-check-in", {"code": code, **extra}, format="json"
    )


@pytest.fixture
def door_event(community, organizer):
    now = timezone.now()
    return event_row(
        community,
        author=organizer[0].user,
        starts_at=now + timedelta(minutes=30),
        self_checkin_enabled=True,
        signup_opens_at=now - timedelta(days=1),
    )


def test_self_check_in_inside_the_window(door_event, organizer, member):
    register(door_event, member[0].user, guests=1)
    response = _self(member[1], door_event, _door(organizer, door_event))
    assert response.status_code == 200, response.content
    assert response.json()["added"] == 2
    assert set(CheckIn.objects.values_list("method", "checked_in_by_id")) == {
        ("self", member[0].user_id)
    }
    assert _self(member[1], door_event, _door(organizer, door_event)).json()["added"] == 0


def test_self_check_in_outside_the_window_is_refused(door_event, organizer, member):
    register(door_event, member[0].user)
    code = _door(organizer, door_event)
    now = timezone.now()
    Event.objects.filter(pk=door_event.pk).update(self_checkin_opens_at=now + timedelta(minutes=5))
    assert _error(_self(member[1], door_event, code)) == "checkin_not_open"
    Event.objects.filter(pk=door_event.pk).update(
        self_checkin_opens_at=now - timedelta(hours=2),
        self_checkin_closes_at=now - timedelta(minutes=1),
    )
    assert _error(_self(member[1], door_event, code)) == "checkin_closed"
    assert not CheckIn.objects.exists()


def test_self_check_in_refusals(community, door_event, organizer, member, make_member):
    code = _door(organizer, door_event)
    assert _error(_self(member[1], door_event, code)) == "not_registered"
    register(door_event, member[0].user)
    other = event_row(community, author=organizer[0].user, self_checkin_enabled=True)
    assert _error(_self(member[1], other, code)) == "wrong_event"
    assert _error(_self(member[1], door_event, code[:-2] + "xx")) == "invalid_code"
    assert _error(_self(member[1], door_event, _ticket(member[1], door_event))) == (
        "not_an_event_code"
    )
    Event.objects.filter(pk=door_event.pk).update(self_checkin_enabled=False)
    assert _error(_self(member[1], door_event, code)) == "self_checkin_disabled"


def test_door_code_is_for_organizers_only(door_event, member):
    response = member[1].get(f"/api/v1/events/{door_event.pk}/door-code")
    assert response.status_code == 403


def test_qr_images_are_png(door_event, organizer, member):
    register(door_event, member[0].user)
    ticket = member[1].get(f"/api/v1/events/{door_event.pk}/ticket/qr")
    assert ticket.status_code == 200 and ticket["Content-Type"] == "image/png"
    assert ticket.content.startswith(b"\x89PNG")
    door = organizer[1].get(f"/api/v1/events/{door_event.pk}/door-code/qr")
    assert door.status_code == 200 and door.content.startswith(b"\x89PNG")


def test_no_ticket_image_without_a_confirmed_place(door_event, member):
    register(door_event, member[0].user, status=RegistrationStatus.WAITLISTED)
    response = member[1].get(f"/api/v1/events/{door_event.pk}/ticket/qr")
    assert response.status_code == 404 and _error(response) == "no_ticket"


# --- no-shows --------------------------------------------------------------------------------
def test_no_shows_are_derived_after_the_event(community, organizer, make_member):
    now = timezone.now()
    event = event_row(
        community,
        author=organizer[0].user,
        starts_at=now + timedelta(hours=1),
        signup_opens_at=now - timedelta(days=1),
    )
    came, _c = make_member()
    absent, _a = make_member()
    register(event, came.user)
    missing = register(event, absent.user, guests=1)
    waiting, _w = make_member()
    register(event, waiting.user, status=RegistrationStatus.WAITLISTED)
    organizer[1].post(
        f"/api/v1/events/{event.pk}/check-ins",
        {"registration_id": event.registrations.get(user=came.user).pk},
        format="json",
    )
    early = organizer[1].get(f"/api/v1/events/{event.pk}/no-shows")
    assert early.status_code == 409 and _error(early) == "event_not_ended"
    Event.objects.filter(pk=event.pk).update(
        starts_at=now - timedelta(hours=5),
        ends_at=now - timedelta(hours=1),
        signup_opens_at=now - timedelta(days=2),
    )
    response = organizer[1].get(f"/api/v1/events/{event.pk}/no-shows")
    assert response.status_code == 200
    assert [r["registration_id"] for r in response.json()["results"]] == [missing.pk]


# --- concurrency -----------------------------------------------------------------------------
@pytest.mark.django_db(transaction=True)
def test_two_organizers_scanning_one_ticket_at_once_make_one_check_in_per_person(
    community, make_member
):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL")
    first, _c1 = make_member(tier=Tier.MODERATOR)
    second, _c2 = make_member(tier=Tier.MODERATOR)
    attendee, _c3 = make_member()
    event = event_row(community, author=first.user)
    registration = register(event, attendee.user, guests=3)
    code = ticket_code(
        registration_id=registration.pk,
        event_secret=event.checkin_secret,
        registration_secret=registration.checkin_secret,
    )
    barrier = threading.Barrier(8)
    added: list[int] = []
    errors: list[BaseException] = []

    def scan(actor):
        try:
            barrier.wait()
            added.append(checkin_by_code(actor=actor, event=event, code=code).added)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=scan, args=(a,)) for a in [first, second] * 4]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sorted(added) == [0] * 7 + [4]
    assert CheckIn.objects.filter(registration=registration).count() == 4


def test_by_hand_with_a_registration_of_another_event_is_not_found(
    community, event, organizer, member
):
    other = event_row(community, title="桌游")
    registration = register(other, member[0].user)
    response = organizer[1].post(
        f"/api/v1/events/{event.pk}/check-ins",
        {"registration_id": registration.pk},
        format="json",
    )
    assert response.status_code == 404 and _error(response) == "not_found"
    assert not CheckIn.objects.exists()
