"""Editing a poll and its options after creation: the admin change form (a staff moderator, as
moderators work) and the services the admin calls. There is no API endpoint to edit a poll or
to rename, move or delete an option; adding an option is ``POST /polls/{id}/options``."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from community.errors import Conflict, Forbidden, NotFound
from community.models import Tier
from polls import services
from polls.models import Option, Poll
from polls.services.polls import EDITABLE_ALWAYS, EDITABLE_BEFORE_VOTES
from tests.admin_forms import change_form
from tests.factories import CommunityFactory, MembershipFactory, UserFactory
from tests.polls.conftest import option_ids, snapshot, vote

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client, community):
    user = UserFactory(is_staff=True)
    MembershipFactory(community=community, user=user, tier=Tier.MODERATOR)
    client.force_login(user)
    return client


def _url(poll: Poll) -> str:
    return f"/admin/polls/poll/{poll.pk}/change/"


def _rows(poll: Poll) -> dict[str, int]:
    """Inline row index of each option id on the change page (ordered by position)."""
    return {pk: i for i, pk in enumerate(option_ids(poll))}


def _save(client, poll: Poll, data: dict):
    return client.post(_url(poll), data, follow=True)


def _errors(response) -> str:
    """Form errors and admin error messages of an answer to a change-form POST."""
    text = [str(m) for m in response.context["messages"] if m.level_tag == "error"]
    if response.context.get("adminform"):
        text.append(str(response.context["adminform"].form.errors))
        for inline in response.context["inline_admin_formsets"]:
            text.append(str(inline.formset.non_form_errors()))
            text.extend(str(f.errors) for f in inline.formset.forms if f.errors)
    return " ".join(t for t in text if t and t != "[]")


def _labels(poll: Poll) -> list[str]:
    return list(poll.options.order_by("position").values_list("label", flat=True))


# --- the time poll ------------------------------------------------------------------------------
def test_a_time_poll_can_be_edited_in_the_admin(staff, make_poll):
    poll = make_poll("time", labels=("Sat", "Sun"))
    data = change_form(staff, _url(poll))
    data["title"] = "When do we meet? (updated)"
    response = _save(staff, poll, data)
    assert not _errors(response), _errors(response)
    poll.refresh_from_db()
    assert poll.title == "When do we meet? (updated)"
    assert _labels(poll) == ["Sat", "Sun"]
