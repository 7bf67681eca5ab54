"""Fixtures of the polls tests: polls made through the create service, snapshots of the DB."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from community.locking import lock_rows
from community.models import Tier
from polls import services
from polls.ballots import VOTERS_KEY
from polls.models import Ballot, BoxEntry, Option, Participation, Poll, SecretBallot, Tally


@pytest.fixture(autouse=True)
def _no_content_check():
    """Polls tests run without WeChat's content check (tests/moderation screens them). Not
    through the ``settings`` fixture: some tests have a parameter of that name."""
    with override_settings(WECHAT_CONTENT_CHECK=False):
        yield


@pytest.fixture
def moderator(make_member):
    return make_member(tier=Tier.MODERATOR)


@pytest.fixture
def make_poll(moderator):
    """``make_poll(kind="single", labels=("A", "B", "C"), actor=..., **settings)`` → Poll."""

    def make(kind: str = "single", labels=("A", "B", "C"), actor=None, **kwargs):
        actor = actor or moderator[0]
        kwargs.setdefault("closes_at", timezone.now() + timedelta(days=2))
        if kind == "proposal":
            options = []
        elif kind == "time":
            start = timezone.now() + timedelta(days=5)
            options = [
                {"label": label, "starts_at": start + timedelta(hours=i)}
                for i, label in enumerate(labels)
            ]
        else:
            options = [{"label": label} for label in labels]
        kwargs.setdefault("options", options)
        return services.poll_create(actor=actor, title=f"{kind} poll", kind=kind, **kwargs)

    return make


def option_ids(poll: Poll) -> list[str]:
    return list(poll.options.order_by("position").values_list("id", flat=True))


def tallies(poll: Poll) -> dict[str, int]:
    """Non-zero tallies (without a secret poll's mixed-ballots row)."""
    rows = Tally.objects.filter(poll=poll, count__gt=0).exclude(key=VOTERS_KEY)
    return dict(rows.values_list("key", "count"))


def mix_box(poll: Poll, *, everything: bool = False) -> int:
    """Mix a secret poll's ballot box now, as the after-vote task does (a complete batch) or as
    the close does (``everything``); in tests wrapped in a transaction no after-commit hook runs."""
    with transaction.atomic():
        locked = lock_rows(Poll.objects.filter(pk=poll.pk)).get()
        return services.box_mix_locked(locked, everything=everything)


def snapshot(poll: Poll) -> tuple:
    """Everything a vote could change, to assert that a refused request recorded nothing."""
    poll.refresh_from_db()
    return (
        sorted(Ballot.objects.filter(poll=poll).values_list("voter_id", "choices", "reason")),
        sorted(Participation.objects.filter(poll=poll).values_list("user_id", flat=True)),
        sorted(
            str(c) for c in SecretBallot.objects.filter(poll=poll).values_list("choices", flat=True)
        ),
        sorted(Tally.objects.filter(poll=poll).values_list("key", "count")),
        BoxEntry.objects.filter(poll=poll).count(),
        sorted(Option.objects.filter(poll=poll).values_list("id", "label")),
        poll.voter_count,
        poll.closed_at,
    )


def vote(client, poll, body, status=200):
    response = client.put(f"/api/v1/polls/{poll.pk}/ballot", body, format="json")
    assert response.status_code == status, response.content
    return response.json() if response.content else None
