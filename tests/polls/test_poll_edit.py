"""Editing a poll and its options after creation: the admin change form (a staff moderator, as
moderators work) and the services the admin calls. There is no API endpoint to edit a poll or
to rename, move or delete an option; adding an option is ``POST /polls/{id}/options``."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from community.errors import Conflict, DomainError, Forbidden, NotFound
from community.models import Tier
from polls import services
from polls.models import Option, Poll
from polls.services.polls import EDITABLE_ALWAYS, EDITABLE_BEFORE_VOTES
from tests.admin_forms import change_form
from tests.factories import MembershipFactory, UserFactory
from tests.polls.conftest import option_ids, snapshot, vote

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client, community):
    user = UserFactory(is_staff=True)
    MembershipFactory(community=community, user=user, tier=Tier.MODERATOR)
    client.force_login(user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
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


# --- poll fields --------------------------------------------------------------------------------
def _later(days: int) -> dict:
    when = timezone.localtime(timezone.now() + timedelta(days=days))
    return {"closes_at_0": when.strftime("%Y-%m-%d"), "closes_at_1": when.strftime("%H:%M")}


#: A new value for every field of ``EDITABLE_ALWAYS`` (form data) and the stored result.
ALWAYS = {
    "title": ("New title", "New title"),
    "description": ("New description", "New description"),
    "reminder_hours": ("6", 6),
    "results_visibility": ("after_close", "after_close"),
    "quorum_percent": ("40", 40),
    "voters_visible": ("on", True),
    "min_ballots_to_show": ("5", 5),
    "allow_member_options": ("on", True),
    "allow_vote_change": (None, False),  # an unchecked box is left out of the POST
}


def test_the_always_editable_fields_change_after_votes(staff, make_poll, member):
    assert set(ALWAYS) | {"closes_at"} == EDITABLE_ALWAYS
    poll = make_poll("multiple")
    vote(member[1], poll, {"option_ids": option_ids(poll)[:1]})
    data = change_form(staff, _url(poll))
    for name, (value, _stored) in ALWAYS.items():
        if value is None:
            data.pop(name, None)
        else:
            data[name] = value
    data.update(_later(5))
    response = _save(staff, poll, data)
    assert not _errors(response), _errors(response)
    poll.refresh_from_db()
    for name, (_value, stored) in ALWAYS.items():
        assert getattr(poll, name) == stored, name
    assert poll.closes_at > timezone.now() + timedelta(days=4)
    assert poll.voter_count == 1


def _earlier_opening() -> dict:
    when = timezone.localtime(timezone.now() - timedelta(hours=3))
    return {"opens_at_0": when.strftime("%Y-%m-%d"), "opens_at_1": when.strftime("%H:%M")}


#: A change of every field of ``EDITABLE_BEFORE_VOTES`` on a multiple-choice poll of A, B, C.
SHAPE = {
    "kind": ({"kind": "ranked"}, "kind", "ranked"),
    "secret": ({"secret": "on"}, "secret", True),
    "publish_ballot_box": (
        {"secret": "on", "publish_ballot_box": "on"},
        "publish_ballot_box",
        True,
    ),
    "ranked_method": ({"ranked_method": "borda"}, "ranked_method", "borda"),
    "min_selections": ({"min_selections": "2"}, "min_selections", 2),
    "max_selections": ({"max_selections": "2"}, "max_selections", 2),
    "min_score": ({"min_score": "1"}, "min_score", 1),
    "max_score": ({"max_score": "10"}, "max_score", 10),
    "opens_at": (_earlier_opening, "opens_at", None),
}


def _shape_change(name: str, data: dict) -> None:
    change = SHAPE[name][0]
    data.update(change() if callable(change) else change)


def test_every_shape_field_is_covered():
    assert set(SHAPE) == EDITABLE_BEFORE_VOTES


@pytest.mark.parametrize("name", sorted(SHAPE))
def test_a_shape_field_changes_before_the_first_vote(staff, make_poll, name):
    poll = make_poll("multiple")
    before = getattr(poll, name)
    data = change_form(staff, _url(poll))
    _shape_change(name, data)
    response = _save(staff, poll, data)
    assert not _errors(response), _errors(response)
    poll.refresh_from_db()
    expected = SHAPE[name][2]
    if expected is None:
        assert getattr(poll, name) < before - timedelta(hours=2)
    else:
        assert getattr(poll, name) == expected


@pytest.mark.parametrize("name", sorted(SHAPE))
def test_a_shape_field_is_refused_after_a_vote_and_nothing_is_saved(staff, make_poll, member, name):
    poll = make_poll("multiple")
    vote(member[1], poll, {"option_ids": option_ids(poll)[:1]})
    before = snapshot(poll)
    fields = {f: getattr(poll, f) for f in EDITABLE_ALWAYS | EDITABLE_BEFORE_VOTES}
    data = change_form(staff, _url(poll))
    _shape_change(name, data)
    data["title"] = "Also a new title"  # refused with the rest: one save, one outcome
    response = _save(staff, poll, data)
    assert "already voted" in _errors(response)
    assert snapshot(poll) == before
    poll.refresh_from_db()
    assert {f: getattr(poll, f) for f in fields} == fields


def test_the_service_answers_409_poll_has_votes(make_poll, member, moderator):
    poll = make_poll("multiple")
    vote(member[1], poll, {"option_ids": option_ids(poll)[:1]})
    with pytest.raises(Conflict) as refused:
        services.poll_update(actor=moderator[0], poll_id=poll.pk, max_selections=2)
    assert refused.value.code == "poll_has_votes" and refused.value.status_code == 409
    # the same value again is not a change
    poll = services.poll_update(actor=moderator[0], poll_id=poll.pk, max_selections=3, title="T")
    assert poll.title == "T"


def test_a_time_poll_cannot_lose_its_slots_by_a_kind_change(staff, make_poll):
    poll = make_poll("single")
    data = change_form(staff, _url(poll))
    data["kind"] = "time"
    response = _save(staff, poll, data)
    assert "start time" in _errors(response)
    poll.refresh_from_db()
    assert poll.kind == "single"


# --- options ------------------------------------------------------------------------------------
def test_options_are_renamed_moved_deleted_and_added_before_votes(staff, make_poll):
    poll = make_poll("single", labels=("A", "B", "C"))
    rows = _rows(poll)
    a, b, c = option_ids(poll)
    data = change_form(staff, _url(poll))
    data[f"options-{rows[b]}-label"] = "Bee"
    data[f"options-{rows[a]}-DELETE"] = "on"
    data[f"options-{rows[c]}-position"] = "0"  # C first
    data[f"options-{rows[b]}-position"] = "1"
    data["options-3-label"] = "D"
    data["options-3-position"] = "2"
    response = _save(staff, poll, data)
    assert not _errors(response), _errors(response)
    assert _labels(poll) == ["C", "Bee", "D"]
    poll.refresh_from_db()
    assert poll.option_order == option_ids(poll)


def test_a_time_slot_is_moved_to_another_time_before_votes(staff, make_poll):
    poll = make_poll("time", labels=("Sat", "Sun"))
    rows = _rows(poll)
    first = option_ids(poll)[0]
    when = timezone.localtime(timezone.now() + timedelta(days=9))
    data = change_form(staff, _url(poll))
    data[f"options-{rows[first]}-starts_at_0"] = when.strftime("%Y-%m-%d")
    data[f"options-{rows[first]}-starts_at_1"] = "09:00"
    response = _save(staff, poll, data)
    assert not _errors(response), _errors(response)
    moved = Option.objects.get(pk=first)
    assert timezone.localtime(moved.starts_at).strftime("%H:%M") == "09:00"


@pytest.mark.parametrize("edit", ["rename", "delete", "reslot"])
def test_options_cannot_be_renamed_or_deleted_after_a_vote(staff, make_poll, member, edit):
    poll = make_poll("time", labels=("Sat", "Sun"))
    first = option_ids(poll)[0]
    vote(member[1], poll, {"answers": {first: "yes"}})
    before = snapshot(poll)
    data = change_form(staff, _url(poll))
    row = _rows(poll)[first]
    if edit == "rename":
        data[f"options-{row}-label"] = "Saturday"
    elif edit == "delete":
        data[f"options-{row}-DELETE"] = "on"
    else:
        data[f"options-{row}-starts_at_1"] = "06:00"
    data["title"] = "Also a new title"
    response = _save(staff, poll, data)
    assert "already voted" in _errors(response)
    assert snapshot(poll) == before
    poll.refresh_from_db()
    assert poll.title == "time poll"


def test_options_can_be_moved_and_added_after_a_vote(staff, make_poll, member):
    poll = make_poll("single", labels=("A", "B"))
    a, b = option_ids(poll)
    vote(member[1], poll, {"option_ids": [a]})
    rows = _rows(poll)
    data = change_form(staff, _url(poll))
    data[f"options-{rows[a]}-position"] = "1"
    data[f"options-{rows[b]}-position"] = "0"
    data["options-2-label"] = "C"
    data["options-2-position"] = "2"
    response = _save(staff, poll, data)
    assert not _errors(response), _errors(response)
    assert _labels(poll) == ["B", "A", "C"]
    poll.refresh_from_db()
    assert poll.voter_count == 1


def test_the_option_services_answer_409_after_a_vote(make_poll, member, moderator):
    poll = make_poll("single", labels=("A", "B", "C"))
    a, b, c = option_ids(poll)
    vote(member[1], poll, {"option_ids": [a]})
    with pytest.raises(Conflict) as renamed:
        services.option_update(actor=moderator[0], option_id=b, label="Bee")
    with pytest.raises(Conflict) as deleted:
        services.option_delete(actor=moderator[0], option_id=c)
    assert renamed.value.code == deleted.value.code == "poll_has_votes"
    with pytest.raises(DomainError) as negative:
        services.option_update(actor=moderator[0], option_id=c, position=-1)
    assert negative.value.code == "invalid_position"
    services.option_update(actor=moderator[0], option_id=a, position=5)
    assert _labels(poll) == ["B", "C", "A"]


# --- who may edit -------------------------------------------------------------------------------
def test_other_communities_polls_and_options_are_not_found(make_poll, moderator, client):
    theirs = make_poll("single", actor=MembershipFactory(tier=Tier.MODERATOR))
    other_option = option_ids(theirs)[0]
    before = snapshot(theirs)
    me = moderator[0]
    for call in (
        lambda: services.poll_update(actor=me, poll_id=theirs.pk, title="x"),
        lambda: services.option_update(actor=me, option_id=other_option, label="x"),
        lambda: services.option_delete(actor=me, option_id=other_option),
        lambda: services.option_add(actor=me, poll_id=theirs.pk, label="x"),
    ):
        with pytest.raises(NotFound):
            call()
    response = moderator[1].post(
        f"/api/v1/polls/{theirs.pk}/options", {"label": "x"}, format="json"
    )
    assert response.status_code == 404
    # the admin of a moderator of another community does not show or save it
    me.user.is_staff = True
    me.user.save()
    client.force_login(me.user)
    data = {"title": "x", "options-TOTAL_FORMS": 0, "options-INITIAL_FORMS": 0}
    assert client.get(_url(theirs)).status_code == 302
    assert client.post(_url(theirs), data).status_code == 302
    assert snapshot(theirs) == before
    assert Poll.objects.get(pk=theirs.pk).title == "single poll"


def test_a_member_who_is_not_the_author_may_not_edit(make_poll, make_member, client):
    poll = make_poll("single")
    plain, api = make_member()
    before = snapshot(poll)
    a = option_ids(poll)[0]
    for call in (
        lambda: services.poll_update(actor=plain, poll_id=poll.pk, title="x"),
        lambda: services.option_update(actor=plain, option_id=a, label="x"),
        lambda: services.option_delete(actor=plain, option_id=a),
        lambda: services.option_add(actor=plain, poll_id=poll.pk, label="x"),
    ):
        with pytest.raises(Forbidden):
            call()
    assert (
        api.post(f"/api/v1/polls/{poll.pk}/options", {"label": "x"}, format="json").status_code
        == 403
    )
    plain.user.is_staff = True
    plain.user.save()
    client.force_login(plain.user)
    assert client.get(_url(poll)).status_code == 403
    assert client.post(_url(poll), {"title": "x"}).status_code == 403
    assert snapshot(poll) == before
    assert Poll.objects.get(pk=poll.pk).title == "single poll"


def test_a_member_who_wrote_the_poll_may_edit_it(make_poll, make_member, community):
    community.members_can_create_polls = True
    community.save()
    author, _api = make_member()
    poll = make_poll("single", actor=author)
    a = option_ids(poll)[0]
    assert services.poll_update(actor=author, poll_id=poll.pk, title="Mine").title == "Mine"
    assert services.option_update(actor=author, option_id=a, label="Alpha").label == "Alpha"
    services.option_delete(actor=author, option_id=a)
    assert _labels(poll) == ["B", "C"]


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_a_title_edit_leaves_the_times_alone(staff, make_poll, language):
    """The admin shows times to the minute; saving another field must not move them (nor
    refuse a poll whose closing time has passed as "closing in the past")."""
    now = timezone.now()
    poll = make_poll("single", opens_at=now - timedelta(hours=2, seconds=13))
    Poll.objects.filter(pk=poll.pk).update(closes_at=now - timedelta(seconds=97))
    poll.refresh_from_db()
    staff.defaults["HTTP_ACCEPT_LANGUAGE"] = language
    data = change_form(staff, _url(poll))
    data["title"] = "Renamed after the close"
    response = _save(staff, poll, data)
    assert not _errors(response), _errors(response)
    renamed = Poll.objects.get(pk=poll.pk)
    assert renamed.title == "Renamed after the close"
    assert (renamed.closes_at, renamed.opens_at) == (poll.closes_at, poll.opens_at)


def test_time_slots_can_be_moved_after_a_vote_in_the_chinese_admin(staff, make_poll, member):
    """Slots shown to the minute are not "changed" by a save (which votes would refuse)."""
    poll = make_poll("time", labels=("Sat", "Sun"))
    first, second = option_ids(poll)
    vote(member[1], poll, {"answers": {first: "yes"}})
    slots = sorted(Option.objects.filter(poll=poll).values_list("id", "starts_at"))
    staff.defaults["HTTP_ACCEPT_LANGUAGE"] = "zh-hans"
    rows = _rows(poll)
    data = change_form(staff, _url(poll))
    data[f"options-{rows[first]}-position"] = "1"
    data[f"options-{rows[second]}-position"] = "0"
    response = _save(staff, poll, data)
    assert not _errors(response), _errors(response)
    assert _labels(poll) == ["Sun", "Sat"]
    assert sorted(Option.objects.filter(poll=poll).values_list("id", "starts_at")) == slots


def test_look_alike_options_stored_earlier_do_not_block_other_edits(make_poll, moderator, member):
    poll = make_poll("single", labels=("爬山", "桌游"))
    vote(member[1], poll, {"option_ids": option_ids(poll)[:1]})
    Option.objects.filter(poll=poll, label="桌游").update(label="爬山\u200b")  # before the rule
    later = timezone.now() + timedelta(days=7)
    updated = services.poll_update(actor=moderator[0], poll_id=poll.pk, closes_at=later)
    assert updated.closes_at == later


def test_a_slot_change_is_checked_like_a_new_slot(make_poll, moderator):
    poll = make_poll("time", labels=("Sat", "Sun"))
    first = Option.objects.get(poll=poll, label="Sat")
    before = snapshot(poll)
    with pytest.raises(DomainError) as backwards:
        services.option_update(
            actor=moderator[0], option_id=first.pk, ends_at=first.starts_at - timedelta(hours=1)
        )
    assert backwards.value.code == "slot_ends_before_start"
    with pytest.raises(DomainError) as no_start:
        services.option_update(actor=moderator[0], option_id=first.pk, starts_at=None)
    assert no_start.value.code == "slot_start_required"
    assert snapshot(poll) == before
