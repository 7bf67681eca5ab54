"""What members are told, through the outbox, exactly once per dedupe key."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from community.models import Notification
from events import services
from tests.events.conftest import sign_up

pytestmark = pytest.mark.django_db


def _kinds(user_id) -> list[str]:
    return sorted(Notification.objects.filter(recipient_id=user_id).values_list("kind", flat=True))


def test_confirmation_once_per_sign_up_and_none_for_an_idempotent_retry(make_event, member):
    event = make_event(capacity=5)
    membership, _ = member
    sign_up(membership, event)
    sign_up(membership, event)
    assert _kinds(membership.user_id) == ["event_confirmed"]


def test_promotion_and_offer_messages_carry_the_claim_deadline(make_event, make_member):
    auto = make_event(capacity=1)
    a, b = make_member()[0], make_member()[0]
    sign_up(a, auto)
    sign_up(b, auto)
    assert _kinds(b.user_id) == []  # waitlisted: nothing yet
    services.registration_cancel(actor=a, event_id=auto.pk)
    assert _kinds(b.user_id) == ["event_promoted"]
    offers = make_event(capacity=1, waitlist_offers=True, offer_hours=6)
    c = make_member()[0]
    sign_up(a, offers)
    sign_up(c, offers)
    services.registration_cancel(actor=a, event_id=offers.pk)
    offer = Notification.objects.get(recipient_id=c.user_id, kind="event_offer")
    deadline = timezone.localtime(timezone.now() + timedelta(hours=6))
    assert offer.data["time5"][:10] == deadline.strftime("%Y-%m-%d")
    # Claiming sends the confirmation.
    sign_up(c, offers)
    assert _kinds(c.user_id) == ["event_confirmed", "event_offer"]


def test_reminders_24h_and_2h_once_per_member_and_round(make_event, make_member):
    start = timezone.now() + timedelta(days=3)
    event = make_event(capacity=5, starts_at=start)
    a, b = make_member()[0], make_member()[0]
    sign_up(a, event)
    sign_up(b, event, guests=0)
    services.registration_cancel(actor=b, event_id=event.pk)
    assert services.events_remind_due(now=start - timedelta(hours=25)) == 0
    assert services.events_remind_due(now=start - timedelta(hours=23)) == 1
    assert services.events_remind_due(now=start - timedelta(hours=22)) == 0  # once per round
    assert services.events_remind_due(now=start - timedelta(hours=1, minutes=59)) == 1
    keys = sorted(
        Notification.objects.filter(kind="event_reminder").values_list("dedupe_key", flat=True)
    )
    assert [k.rsplit(":", 1)[1] for k in keys] == ["24h", "2h"]
    assert set(
        Notification.objects.filter(kind="event_reminder").values_list("recipient_id", flat=True)
    ) == {a.user_id}


def test_moving_the_event_reminds_again_and_a_cancelled_event_reminds_nobody(
    make_event, make_member, moderator
):
    start = timezone.now() + timedelta(days=3)
    event = make_event(capacity=5, starts_at=start)
    a = make_member()[0]
    sign_up(a, event)
    services.events_remind_due(now=start - timedelta(hours=23))
    new_start = start + timedelta(days=1)
    services.event_update(actor=moderator[0], event_id=event.pk, starts_at=new_start)
    assert services.events_remind_due(now=new_start - timedelta(hours=23)) == 1
    services.event_cancel(actor=moderator[0], event_id=event.pk)
    assert services.events_remind_due(now=new_start - timedelta(hours=1)) == 0
    assert _kinds(a.user_id) == [
        "event_cancelled",
        "event_changed",
        "event_confirmed",
        "event_reminder",
        "event_reminder",
    ]


def test_rounds_that_fell_due_before_the_event_existed_are_skipped(make_event, member):
    start = timezone.now() + timedelta(hours=5)
    event = make_event(capacity=5, starts_at=start)  # the 24 h round was due before it existed
    sign_up(member[0], event)
    assert services.events_remind_due(now=timezone.now()) == 0
    assert services.events_remind_due(now=start - timedelta(hours=1)) == 1
