"""Terms follow the clock: the sweep records ends and reminds each holder once, a week before."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from community.models import Notification
from roles import services
from roles.models import EndReason
from roles.tasks import roles_terms
from tests.roles.factories import RoleFactory, hold

pytestmark = pytest.mark.django_db


@pytest.fixture
def term(make_member, community):
    """A term ending in 10 days."""
    member, _ = make_member()
    role = RoleFactory(community=community, name="新人欢迎")
    return hold(member, role=role, term_ends_at=timezone.now() + timedelta(days=10))


def _reminders():
    return Notification.objects.filter(kind=services.NOTIFY_TERM_ENDING)


def test_the_holder_is_reminded_a_week_before_exactly_once(term):
    end = term.term_ends_at
    assert services.assignments_remind_due(now=end - timedelta(days=7, minutes=1)) == 0
    assert services.assignments_remind_due(now=end - timedelta(days=6, hours=23)) == 1
    reminder = _reminders().get()
    assert reminder.recipient_id == term.membership.user_id
    assert reminder.data["thing1"] == "新人欢迎"
    # Every later run, and a run after the row's marker was lost, queue nothing more.
    assert services.assignments_remind_due(now=end - timedelta(days=3)) == 0
    type(term).objects.filter(pk=term.pk).update(reminded_at=None)
    assert services.assignments_remind_due(now=end - timedelta(days=2)) == 0
    assert _reminders().count() == 1


def test_a_renewed_term_is_reminded_again_before_its_own_end(term, make_member):
    admin, _ = make_member(tier="admin")
    services.assignments_remind_due(now=term.term_ends_at - timedelta(days=6))
    renewed = services.assignment_renew(actor=admin, assignment_id=term.pk)
    services.assignments_remind_due(now=renewed.term_ends_at - timedelta(days=6))
    assert _reminders().count() == 2


def test_an_ended_term_is_not_reminded(term, make_member):
    admin, _ = make_member(tier="admin")
    services.assignment_end(actor=admin, assignment_id=term.pk)
    assert services.assignments_remind_due(now=term.term_ends_at - timedelta(days=1)) == 0


def test_the_sweep_records_the_end_of_terms_past_their_date(term):
    roles_terms(now=(term.term_ends_at - timedelta(seconds=1)).isoformat())
    term.refresh_from_db()
    assert term.ended_at is None
    roles_terms(now=(term.term_ends_at + timedelta(seconds=1)).isoformat())
    term.refresh_from_db()
    assert (term.ended_at, term.end_reason) == (term.term_ends_at, EndReason.TERM_EXPIRED)
