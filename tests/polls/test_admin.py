"""The polls admin: creation through the service, actions, results chart, CSV export."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from community.models import Tier
from polls.models import Poll
from tests.conftest import client_for
from tests.factories import MembershipFactory, UserFactory
from tests.polls.conftest import option_ids, vote

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client, community):
    user = UserFactory(is_staff=True)
    MembershipFactory(community=community, user=user, tier=Tier.MODERATOR)
    client.force_login(user)
    return client


def _add_form(community, **overrides):
    closes = timezone.localtime(timezone.now() + timedelta(days=1))
    opens = timezone.localtime(timezone.now() - timedelta(minutes=1))
    data = {
        "community": community.pk,
        "title": "Admin poll",
        "description": "",
        "kind": "single",
        "opens_at_0": opens.strftime("%Y-%m-%d"),
        "opens_at_1": opens.strftime("%H:%M:%S"),
        "closes_at_0": closes.strftime("%Y-%m-%d"),
        "closes_at_1": closes.strftime("%H:%M:%S"),
        "ranked_method": "irv",
        "min_selections": 1,
        "max_selections": 1,
        "min_score": 0,
        "max_score": 5,
        "results_visibility": "always",
        "allow_vote_change": "on",
        "min_ballots_to_show": 3,
        "quorum_percent": 0,
        "reminder_hours": 24,
        "options-TOTAL_FORMS": 1,
        "options-INITIAL_FORMS": 0,
        "options-MIN_NUM_FORMS": 0,
        "options-MAX_NUM_FORMS": 1000,
        "options-0-label": "Only one",
        "options-0-position": 1,
    }
    data.update(overrides)
    return data


def test_admin_refusal_of_the_service_is_a_form_error_not_a_crash(staff, community):
    response = staff.post("/admin/polls/poll/add/", _add_form(community))
    assert response.status_code == 200
    errors = str(response.context["inline_admin_formsets"][0].formset.non_form_errors())
    assert errors  # the service's own message, e.g. "at least two options"
    assert not Poll.objects.exists()


def test_admin_creates_a_poll_through_the_service(staff, community, make_member):
    make_member()
    data = _add_form(
        community,
        **{
            "options-TOTAL_FORMS": 2,
            "options-0-label": "Yes",
            "options-1-label": "No",
            "options-1-position": 2,
        },
    )
    response = staff.post("/admin/polls/poll/add/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    poll = Poll.objects.get(title="Admin poll")
    assert poll.eligible_count == 2  # recorded by poll_create, like the API
    assert list(poll.options.values_list("label", flat=True)) == ["Yes", "No"]


def test_admin_list_change_page_actions_and_export(staff, make_poll, member):
    poll = make_poll("single")
    vote(member[1], poll, {"option_ids": option_ids(poll)[:1]})
    assert staff.get("/admin/polls/poll/").status_code == 200
    page = staff.get(f"/admin/polls/poll/{poll.pk}/change/")
    assert page.status_code == 200 and b"poll-results" in page.content
    response = staff.post(
        "/admin/polls/poll/", {"action": "export_csv", "_selected_action": [poll.pk]}
    )
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    text = response.content.decode()
    assert "A,1" in text and "voter,choices" in text
    staff.post("/admin/polls/poll/", {"action": "close_polls", "_selected_action": [poll.pk]})
    poll.refresh_from_db()
    assert poll.closed_at is not None
    Poll.objects.filter(pk=poll.pk).update(closes_at=timezone.now() + timedelta(days=1))
    staff.post("/admin/polls/poll/", {"action": "reopen_polls", "_selected_action": [poll.pk]})
    poll.refresh_from_db()
    assert poll.closed_at is None


def test_admin_page_export_and_api_show_the_same_results_to_the_same_moderator(
    client, community, make_poll, make_member
):
    """One helper (``polls.selectors.poll_results``) decides what a viewer sees: below the
    secret poll's k ballots the API, the admin page and the CSV all hide the counts; at k they
    all show them."""
    user = UserFactory(is_staff=True)
    moderator = MembershipFactory(community=community, user=user, tier=Tier.MODERATOR)
    client.force_login(user)
    poll = make_poll("single", actor=moderator, secret=True, min_ballots_to_show=2)
    api = client_for(user)

    def seen():
        results = api.get(f"/api/v1/polls/{poll.pk}/results").json()
        page = client.get(f"/admin/polls/poll/{poll.pk}/change/").content.decode()
        csv = client.post(
            "/admin/polls/poll/", {"action": "export_csv", "_selected_action": [poll.pk]}
        ).content.decode()
        return (
            results["visible"],
            "<table" in page.split("poll-results")[1].split("</div>")[0],
            "\r\nA," in csv,
        )

    vote(make_member()[1], poll, {"option_ids": option_ids(poll)[:1]})
    assert seen() == (False, False, False)
    vote(make_member()[1], poll, {"option_ids": option_ids(poll)[:1]})
    assert seen() == (True, True, True)
