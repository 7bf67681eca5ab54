"""Invariants held by the database: both the ValidationError and the IntegrityError path."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from polls.models import Ballot, Option, Participation, Poll, SecretBallot, Tally
from tests.db_constraints import assert_violates, check_constraints_violated
from tests.polls.conftest import option_ids

pytestmark = pytest.mark.django_db


def _poll(community, **kwargs) -> Poll:
    now = timezone.now()
    fields = {"title": "t", "kind": "single", "opens_at": now, "closes_at": now + timedelta(days=1)}
    return Poll(community=community, **{**fields, **kwargs})


@pytest.mark.parametrize(
    ("changes", "constraint"),
    [
        ({"closes_at": timezone.now() - timedelta(days=1)}, "poll_closes_after_opening"),
        ({"min_selections": 3, "max_selections": 2}, "poll_selections_range_valid"),
        ({"min_selections": 0}, "poll_selections_range_valid"),
        ({"min_score": 5, "max_score": 5}, "poll_score_range_valid"),
        ({"quorum_percent": 120}, "poll_quorum_percent_valid"),
        ({"secret": True, "voters_visible": True}, "poll_secret_voters_never_visible"),
        ({"kind": "bogus"}, "poll_kind_valid"),
        ({"min_ballots_to_show": 0}, "poll_min_ballots_positive"),
    ],
)
def test_poll_check_constraints(community, changes, constraint):
    poll = _poll(community, **changes)
    with pytest.raises(ValidationError) as excinfo:
        poll.validate_constraints()
    assert check_constraints_violated(excinfo.value) == {constraint}
    with pytest.raises(IntegrityError) as excinfo, transaction.atomic():
        poll.save()
    assert_violates(excinfo.value, constraint)


def test_tally_count_never_negative(make_poll):
    poll = make_poll("single")
    tally = Tally(community=poll.community, poll=poll, key="x", count=-1)
    with pytest.raises(ValidationError) as invalid:
        tally.validate_constraints()
    assert check_constraints_violated(invalid.value) == {"tally_count_not_negative"}
    with pytest.raises(IntegrityError) as excinfo, transaction.atomic():
        tally.save()
    assert_violates(excinfo.value, "tally_count_not_negative")


def test_one_ballot_per_member_and_poll(make_poll, member):
    poll = make_poll("single")
    membership, _ = member
    Ballot.objects.create(community=poll.community, poll=poll, voter=membership.user, choices={})
    second = Ballot(community=poll.community, poll=poll, voter=membership.user, choices={})
    with pytest.raises(ValidationError):
        second.validate_constraints()
    with pytest.raises(IntegrityError) as excinfo, transaction.atomic():
        second.save()
    assert_violates(excinfo.value, "ballot_one_per_member_and_poll")


def test_one_participation_per_member_and_poll(make_poll, member):
    poll = make_poll("single", secret=True)
    user = member[0].user
    Participation.objects.create(community=poll.community, poll=poll, user=user)
    with pytest.raises(IntegrityError) as excinfo, transaction.atomic():
        Participation.objects.create(community=poll.community, poll=poll, user=user)
    assert_violates(excinfo.value, "participation_one_per_member_and_poll")


def test_receipt_hash_unique_per_poll(make_poll):
    poll = make_poll("single", secret=True)
    SecretBallot.objects.create(community=poll.community, poll=poll, choices={}, receipt_hash="h")
    twin = SecretBallot(community=poll.community, poll=poll, choices={}, receipt_hash="h")
    with pytest.raises(ValidationError):
        twin.validate_constraints()
    with pytest.raises(IntegrityError) as excinfo, transaction.atomic():
        twin.save()
    assert_violates(excinfo.value, "secretballot_receipt_unique")


def test_option_label_unique_and_slot_order(make_poll):
    poll = make_poll("single")
    twin = Option(community=poll.community, poll=poll, label="A")
    with pytest.raises(ValidationError):
        twin.validate_constraints()
    with pytest.raises(IntegrityError) as excinfo, transaction.atomic():
        twin.save()
    assert_violates(excinfo.value, "option_label_unique_in_poll")
    now = timezone.now()
    backwards = Option(community=poll.community, poll=poll, label="Z", starts_at=now, ends_at=now)
    with pytest.raises(ValidationError) as invalid:
        backwards.validate_constraints()
    assert check_constraints_violated(invalid.value) == {"option_slot_ends_after_start"}
    with pytest.raises(IntegrityError) as excinfo, transaction.atomic():
        backwards.save()
    assert_violates(excinfo.value, "option_slot_ends_after_start")


def test_status_is_computed_from_the_clock(make_poll):
    poll = make_poll("single", opens_at=timezone.now() + timedelta(hours=1))
    assert poll.status == "upcoming"
    now = timezone.now()
    assert poll.status_at(poll.opens_at) == "open"
    assert poll.status_at(poll.closes_at) == "closed"
    assert Poll.objects.with_status("upcoming", now).get() == poll
    assert option_ids(poll)
