"""Fixtures of the events tests: events made through the create service, seat bookkeeping."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db.models import Sum
from django.utils import timezone

from community.models import Tier
from events import services
from events.models import Event, Registration, RegistrationStatus


@pytest.fixture(autouse=True)
def _no_content_check(settings):
    settings.WECHAT_CONTENT_CHECK = False


@pytest.fixture
def moderator(make_member):
    return make_member(tier=Tier.MODERATOR)


@pytest.fixture
def make_event(moderator):
    """``make_event(capacity=3, mode="quick", actor=..., **settings)`` → Event."""

    def make(actor=None, mode="quick", title="周六爬山", **kwargs):
        actor = actor or moderator[0]
        kwargs.setdefault("starts_at", timezone.now() + timedelta(days=3))
        return services.event_create(actor=actor, mode=mode, title=title, **kwargs)

    return make


def sign_up(membership, event, **kwargs) -> Registration:
    return services.registration_put(actor=membership, event_id=event.pk, **kwargs)


def seats_consistent(event: Event) -> tuple[int, int]:
    """(the event's seats counter, the seats its registrations hold): always equal."""
    event.refresh_from_db()
    held = Registration.objects.filter(event=event).aggregate(s=Sum("seats"))["s"] or 0
    return event.seats_taken, held


def line(event: Event) -> list[int]:
    """User ids on the waitlist, in order."""
    return list(
        Registration.objects.filter(event=event, status=RegistrationStatus.WAITLISTED)
        .order_by("waitlist_seq")
        .values_list("user_id", flat=True)
    )


def statuses(event: Event) -> dict[int, str]:
    return dict(Registration.objects.filter(event=event).values_list("user_id", "status"))
