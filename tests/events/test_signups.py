"""Sign-up rules through the services: seats, the waitlist, offers, approval, cancellation."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from community.errors import Conflict, DomainError, Forbidden
from community.models import Tier
from events import services
from events.models import CancelReason, Event, Registration, RegistrationStatus
from events.selectors import my_registration
from tests.events.conftest import line, seats_consistent, sign_up, statuses

pytestmark = pytest.mark.django_db

C, W, OFFERED, P = (
    RegistrationStatus.CONFIRMED,
    RegistrationStatus.WAITLISTED,
    RegistrationStatus.OFFERED,
    RegistrationStatus.PENDING,
)


@pytest.fixture
def members(make_member):
    return [make_member()[0] for _ in range(6)]


def test_seats_count_guests_and_a_full_event_puts_newcomers_on_the_waitlist(make_event, members):
    event = make_event(capacity=4, max_guests=2)
    a, b, c, d = members[:4]
    assert sign_up(a, event, guests=2).status == C  # 3 seats
    assert sign_up(b, event, guests=1).status == W  # needs 2, 1 left
    assert sign_up(c, event).status == W  # 1 would fit, but b waits: no jumping the line
    assert sign_up(d, event).status == W
    assert line(event) == [b.user_id, c.user_id, d.user_id]
    assert seats_consistent(event) == (3, 3)
    event.refresh_from_db()
    assert event.waitlist_count == 3
    assert my_registration(event=event, user_id=d.user_id).waitlist_position == 3


def test_put_is_idempotent_and_guests_and_note_are_editable(make_event, members):
    event = make_event(capacity=10, max_guests=3)
    a = members[0]
    first = sign_up(a, event, guests=1, note="带孩子")
    again = sign_up(a, event, guests=1, note="带孩子")
    assert again.pk == first.pk and Registration.objects.filter(event=event).count() == 1
    assert seats_consistent(event) == (2, 2)
    changed = sign_up(a, event, guests=3, note="全家")
    assert (changed.guests, changed.note, changed.seats) == (3, "全家", 4)
    assert seats_consistent(event) == (4, 4)
    fewer = sign_up(a, event, guests=0, note="")
    assert (fewer.guests, fewer.seats) == (0, 1)
    assert seats_consistent(event) == (1, 1)


def test_more_guests_than_the_event_allows_is_refused(make_event, members):
    event = make_event(capacity=10, max_guests=1)
    with pytest.raises(DomainError) as err:
        sign_up(members[0], event, guests=2)
    assert err.value.code == "too_many_guests"
    assert not Registration.objects.filter(event=event).exists()


def test_adding_guests_beyond_the_seats_left_is_refused_or_takes_what_fits(make_event, members):
    event = make_event(capacity=3, max_guests=3)
    a, b = members[:2]
    sign_up(a, event)
    sign_up(b, event)
    with pytest.raises(Conflict) as err:
        sign_up(a, event, guests=2)
    assert err.value.code == "not_enough_seats"
    assert seats_consistent(event) == (2, 2)
    partial = sign_up(a, event, guests=2, accept_partial=True)
    assert (partial.guests, partial.guests_wanted, partial.seats) == (1, 2, 2)
    assert seats_consistent(event) == (3, 3)


def test_partial_seats_choice_take_what_fits_or_wait(make_event, members):
    event = make_event(capacity=3, max_guests=3)
    a, b, c = members[:3]
    sign_up(a, event)  # 2 seats left
    waits = sign_up(b, event, guests=2)  # wants 3: waits for all of them
    assert waits.status == W
    sign_up(b, event, guests=0)  # now fits... but b is in line: stays in line, promoted at once
    assert statuses(event)[b.user_id] == C
    event2 = make_event(capacity=3, max_guests=3)
    sign_up(a, event2)
    takes = sign_up(c, event2, guests=3, accept_partial=True)
    assert (takes.status, takes.guests, takes.guests_wanted, takes.seats) == (C, 1, 3, 2)
    assert seats_consistent(event2) == (3, 3)


def test_cancelling_promotes_the_first_in_line_automatically(make_event, members):
    event = make_event(capacity=2)
    a, b, c, d = members[:4]
    for m in (a, b, c, d):
        sign_up(m, event)
    assert line(event) == [c.user_id, d.user_id]
    services.registration_cancel(actor=a, event_id=event.pk)
    st = statuses(event)
    assert st[a.user_id] == RegistrationStatus.CANCELLED
    assert st[c.user_id] == C and st[d.user_id] == W
    assert seats_consistent(event) == (2, 2)
    assert my_registration(event=event, user_id=d.user_id).waitlist_position == 1


def test_head_of_line_with_guests_that_do_not_fit_blocks_unless_it_accepts_partial(
    make_event, members
):
    event = make_event(capacity=3, max_guests=2)
    a, b, c = members[:3]
    sign_up(a, event)
    sign_up(b, event, guests=1)  # 3 taken
    sign_up(c, event, guests=2)  # waits for 3 seats
    services.registration_cancel(actor=a, event_id=event.pk)  # 1 free
    assert statuses(event)[c.user_id] == W
    sign_up(c, event, guests=2, accept_partial=True)  # now takes the one seat
    reg = Registration.objects.get(event=event, user_id=c.user_id)
    assert (reg.status, reg.guests, reg.seats) == (C, 0, 1)
    assert seats_consistent(event) == (3, 3)


def test_capacity_changes(make_event, members, moderator):
    event = make_event(capacity=2)
    a, b, c, d = members[:4]
    for m in (a, b, c, d):
        sign_up(m, event)
    with pytest.raises(Conflict) as err:
        services.event_update(actor=moderator[0], event_id=event.pk, capacity=1)
    assert err.value.code == "capacity_below_taken"
    services.event_update(actor=moderator[0], event_id=event.pk, capacity=3)
    st = statuses(event)
    assert st[c.user_id] == C and st[d.user_id] == W
    assert seats_consistent(event) == (3, 3)


def test_offer_mode_reserves_seats_until_claimed_then_confirms(make_event, members):
    event = make_event(capacity=1, waitlist_offers=True, offer_hours=12)
    a, b = members[:2]
    sign_up(a, event)
    sign_up(b, event)
    services.registration_cancel(actor=a, event_id=event.pk)
    offered = Registration.objects.get(event=event, user_id=b.user_id)
    assert offered.status == OFFERED and offered.seats == 1
    assert offered.offer_expires_at - timezone.now() > timedelta(hours=11)
    assert seats_consistent(event) == (1, 1)
    claimed = sign_up(b, event)
    assert claimed.status == C and claimed.offer_expires_at is None
    assert seats_consistent(event) == (1, 1)


def test_an_unclaimed_offer_passes_to_the_next_on_sweep_and_on_read(make_event, members):
    event = make_event(capacity=1, waitlist_offers=True, offer_hours=1)
    a, b, c = members[:3]
    for m in (a, b, c):
        sign_up(m, event)
    services.registration_cancel(actor=a, event_id=event.pk)
    assert statuses(event)[b.user_id] == OFFERED
    later = timezone.now() + timedelta(hours=1, minutes=1)
    assert services.events_offers_expire_due(now=later) == 1
    b_reg = Registration.objects.get(event=event, user_id=b.user_id)
    assert (b_reg.status, b_reg.cancel_reason) == (
        RegistrationStatus.CANCELLED,
        CancelReason.OFFER_EXPIRED,
    )
    assert statuses(event)[c.user_id] == OFFERED
    assert seats_consistent(event) == (1, 1)
    # On read: c's offer expires too (nobody else waits) and the seat comes free.
    much_later = later + timedelta(hours=2)
    assert services.event_offers_expire_on_read(event=event, now=much_later)
    assert seats_consistent(event) == (0, 0)
    assert services.events_offers_expire_due(now=much_later) == 0  # idempotent


def test_claiming_an_expired_offer_is_refused_and_passes_it_on(make_event, members):
    event = make_event(capacity=1, waitlist_offers=True, offer_hours=1)
    a, b, c = members[:3]
    for m in (a, b, c):
        sign_up(m, event)
    services.registration_cancel(actor=a, event_id=event.pk)
    Registration.objects.filter(event=event, user_id=b.user_id).update(
        offer_expires_at=timezone.now() - timedelta(minutes=1)
    )
    with pytest.raises(Conflict) as err:
        sign_up(b, event)
    assert err.value.code == "offer_expired"
    # The refusal rolled back, but the next read passes the offer on.
    services.event_offers_expire_on_read(event=event)
    assert statuses(event)[c.user_id] == OFFERED


def test_approval_mode_waits_for_an_organizer_and_approval_takes_seats_under_the_guard(
    make_event, members, moderator
):
    event = make_event(mode="full", capacity=1, requires_approval=True)
    a, b = members[:2]
    ra = sign_up(a, event)
    rb = sign_up(b, event)
    assert ra.status == P and rb.status == P
    assert seats_consistent(event) == (0, 0)
    organizer = moderator[0]
    assert (
        services.registration_approve(
            actor=organizer, event_id=event.pk, registration_id=ra.pk
        ).status
        == C
    )
    assert (
        services.registration_approve(
            actor=organizer, event_id=event.pk, registration_id=rb.pk
        ).status
        == W
    )
    assert seats_consistent(event) == (1, 1)
    services.registration_reject(actor=organizer, event_id=event.pk, registration_id=rb.pk)
    assert statuses(event)[b.user_id] == RegistrationStatus.REJECTED
    event.refresh_from_db()
    assert event.waitlist_count == 0
    with pytest.raises(Conflict) as err:
        sign_up(b, event, note="please")
    assert err.value.code == "registration_rejected"


def test_a_member_cannot_approve(make_event, members):
    event = make_event(mode="full", capacity=5, requires_approval=True)
    a, b = members[:2]
    reg = sign_up(a, event)
    with pytest.raises(Forbidden):
        services.registration_approve(actor=b, event_id=event.pk, registration_id=reg.pk)


def test_cancel_after_the_deadline_is_refused_but_leaving_the_waitlist_is_not(make_event, members):
    starts = timezone.now() + timedelta(days=2)
    event = make_event(capacity=1, starts_at=starts, cancel_deadline=starts - timedelta(days=1))
    a, b = members[:2]
    sign_up(a, event)
    sign_up(b, event)
    later = timezone.now() + timedelta(days=1, hours=1)
    with pytest.raises(Conflict) as err:
        services.registration_cancel(actor=a, event_id=event.pk, now=later)
    assert err.value.code == "cancel_deadline_passed"
    services.registration_cancel(actor=b, event_id=event.pk, now=later)
    assert statuses(event)[b.user_id] == RegistrationStatus.CANCELLED
    assert seats_consistent(event) == (1, 1)


def test_cancel_is_idempotent_and_a_new_sign_up_goes_to_the_end_of_the_line(make_event, members):
    event = make_event(capacity=1)
    a, b, c = members[:3]
    for m in (a, b, c):
        sign_up(m, event)
    services.registration_cancel(actor=b, event_id=event.pk)
    services.registration_cancel(actor=b, event_id=event.pk)
    assert line(event) == [c.user_id]
    again = sign_up(b, event)
    assert again.status == W
    assert line(event) == [c.user_id, b.user_id]


def test_sign_up_outside_the_window_or_for_a_cancelled_event_is_refused(
    make_event, members, moderator
):
    soon = timezone.now() + timedelta(days=1)
    later = make_event(capacity=3, signup_opens_at=soon)
    with pytest.raises(Conflict) as err:
        sign_up(members[0], later)
    assert err.value.code == "signup_not_open"
    event = make_event(capacity=3)
    services.event_cancel(actor=moderator[0], event_id=event.pk, reason="下雨")
    with pytest.raises(Conflict) as err:
        sign_up(members[0], event)
    assert err.value.code == "event_cancelled"
    closed = make_event(capacity=3)
    Event.objects.filter(pk=closed.pk).update(signup_closes_at=timezone.now())
    closed.refresh_from_db()
    with pytest.raises(Conflict) as err:
        sign_up(members[0], closed)
    assert err.value.code == "signup_closed"


def test_members_create_quick_lists_only_when_the_community_allows(make_member, community):
    member, _ = make_member()
    starts = timezone.now() + timedelta(days=1)
    with pytest.raises(Forbidden):
        services.event_create(actor=member, title="爬山", starts_at=starts)
    community.members_can_create_events = True
    community.save()
    member.community.refresh_from_db()
    event = services.event_create(actor=member, title="爬山", starts_at=starts, capacity=5)
    assert event.attendees_visible and event.is_organizer(member.user_id)
    with pytest.raises(Forbidden):
        services.event_create(actor=member, title="讲座", starts_at=starts, mode="full")


def test_organizers_manage_like_moderators_and_a_muted_organizer_cannot(
    make_event, make_member, moderator
):
    event = make_event(capacity=5)
    helper, _ = make_member()
    with pytest.raises(Forbidden):
        services.event_update(actor=helper, event_id=event.pk, title="改")
    services.organizer_add(actor=moderator[0], event_id=event.pk, user_id=helper.user_id)
    event = services.event_update(actor=helper, event_id=event.pk, title="改了")
    assert event.title == "改了"
    helper.status = "muted"
    helper.save()
    with pytest.raises(Forbidden):
        services.event_update(actor=helper, event_id=event.pk, title="再改")


def test_quick_lists_have_no_form_and_no_approval(make_event):
    with pytest.raises(DomainError) as err:
        make_event(requires_approval=True)
    assert err.value.code == "quick_event_limits"


def test_a_moderator_of_another_community_gets_404(make_event, make_member):
    from community.errors import NotFound
    from tests.factories import CommunityFactory

    event = make_event(capacity=5)
    other, _ = make_member(tier=Tier.MODERATOR, community=CommunityFactory())
    with pytest.raises(NotFound):
        services.event_update(actor=other, event_id=event.pk, title="x")
    with pytest.raises(NotFound):
        sign_up(other, event)


def test_an_offer_made_after_sign_up_closed_can_still_be_claimed(make_event, members):
    starts = timezone.now() + timedelta(days=2)
    event = make_event(
        capacity=1,
        starts_at=starts,
        signup_closes_at=starts - timedelta(days=1),
        waitlist_offers=True,
        offer_hours=12,
    )
    a, b = members[:2]
    sign_up(a, event)
    sign_up(b, event)
    later = timezone.now() + timedelta(days=1, hours=1)  # sign-up closed, cancelling still open
    services.registration_cancel(actor=a, event_id=event.pk, now=later)
    assert statuses(event)[b.user_id] == OFFERED
    claimed = services.registration_put(actor=b, event_id=event.pk, now=later)
    assert claimed.status == C
    with pytest.raises(Conflict) as err:
        sign_up(members[2], event, now=later)
    assert err.value.code == "signup_closed"
