"""Poll texts members and moderators publish (title, description, option labels, member-added
options, proposal reasons) are stored in the normal form of ``community.text``; text that is
empty once invisible characters are gone is refused, and so are two options of one poll that
look the same. Over HTTP and through the admin, checking that a refusal saves nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from community.errors import DomainError
from community.models import Tier
from polls import services
from polls.models import Ballot, Option, Poll
from tests.admin_forms import change_form
from tests.factories import MembershipFactory, UserFactory
from tests.polls.conftest import option_ids, snapshot, vote
from tests.polls.test_admin import _add_form

pytestmark = pytest.mark.django_db

ZW = "\u200b"
RLO = "\u202e"
INVISIBLE = f"{ZW}\u200d\u2066\ufeff\u3000 "


def _create(client, community_id, **body):
    body.setdefault("kind", "single")
    body.setdefault("closes_at", (timezone.now() + timedelta(days=2)).isoformat())
    return client.post(
        f"/api/v1/communities/{community_id}/polls",
        body,
        format="json",
        HTTP_ACCEPT_LANGUAGE="en",
    )


def _error(response) -> dict:
    assert response.status_code == 400, response.content
    return response.json()["errors"][0]


def test_poll_texts_are_stored_in_normal_form(moderator):
    membership, client = moderator
    response = _create(
        client,
        membership.community_id,
        title=f" 周六{ZW}去哪里？{RLO} ",
        description="集合\u3000地点：\r\n\r\n\r\n\r\n东门\u200f",
        options=[{"label": "ＡＢＣ"}, {"label": f"爬{ZW}山 "}, {"label": "看  电影"}],
    )
    assert response.status_code == 201, response.content
    poll = Poll.objects.get()
    assert poll.title == "周六去哪里？"
    assert poll.description == "集合 地点：\n\n东门"
    assert list(poll.options.order_by("position").values_list("label", flat=True)) == [
        "ABC",
        "爬山",
        "看 电影",
    ]
    assert [o["label"] for o in response.json()["options"]] == ["ABC", "爬山", "看 电影"]


@pytest.mark.parametrize(
    ("body", "attr", "code"),
    [
        ({"title": INVISIBLE}, "title", "blank"),
        ({"options": [{"label": "A"}, {"label": INVISIBLE}]}, "options", "label_required"),
        ({"options": [{"label": "爬山"}, {"label": "爬山" + ZW}]}, "options", "duplicate_option"),
        ({"options": [{"label": "ＡＢＣ"}, {"label": "abc"}]}, "options", "duplicate_option"),
        (
            {"options": [{"label": "Go  hiking"}, {"label": "go hiking"}]},
            "options",
            "duplicate_option",
        ),
    ],
)
def test_blank_and_look_alike_texts_create_nothing(moderator, body, attr, code):
    membership, client = moderator
    body = {"title": "Where?", "options": [{"label": "A"}, {"label": "B"}], **body}
    error = _error(_create(client, membership.community_id, **body))
    assert (error["attr"], error["code"]) == (attr, code)
    assert not Poll.objects.exists() and not Option.objects.exists()


def test_a_time_slot_with_an_invisible_label_is_named_after_its_time(moderator):
    membership, client = moderator
    start = timezone.now() + timedelta(days=3)
    response = _create(
        client,
        membership.community_id,
        title="When?",
        kind="time",
        options=[
            {"label": INVISIBLE, "starts_at": start.isoformat()},
            {"label": "later", "starts_at": (start + timedelta(hours=2)).isoformat()},
        ],
    )
    assert response.status_code == 201, response.content
    assert response.json()["options"][0]["label"].startswith(
        timezone.localtime(start).strftime("%Y-%m-%d")
    )


# --- options members add ------------------------------------------------------------------------
@pytest.fixture
def open_poll(make_poll):
    return make_poll("multiple", labels=("爬山", "ABC"), allow_member_options=True)


def _add(client, poll, label):
    return client.post(
        f"/api/v1/polls/{poll.pk}/options",
        {"label": label},
        format="json",
        HTTP_ACCEPT_LANGUAGE="en",
    )


def test_a_member_added_option_is_stored_in_normal_form(open_poll, member):
    response = _add(member[1], open_poll, f" {RLO}桌{ZW}游 ")
    assert response.status_code == 201, response.content
    assert Option.objects.filter(poll=open_poll).order_by("position").last().label == "桌游"


@pytest.mark.parametrize(
    ("label", "code"),
    [
        ("爬山" + ZW, "duplicate_option"),
        ("ａｂｃ", "duplicate_option"),
        (" abc ", "duplicate_option"),
        (INVISIBLE, "label_required"),
    ],
)
def test_a_blank_or_look_alike_member_option_adds_nothing(open_poll, member, label, code):
    before = snapshot(open_poll)
    error = _error(_add(member[1], open_poll, label))
    assert (error["attr"], error["code"]) == ("label", code)
    assert snapshot(open_poll) == before


# --- proposal reasons ---------------------------------------------------------------------------
def test_a_proposal_reason_is_stored_in_normal_form(make_poll, member):
    poll = make_poll("proposal")
    vote(member[1], poll, {"position": "block", "reason": f"{RLO}太贵了{ZW}\r\n\r\n\r\n！"})
    assert Ballot.objects.get(poll=poll).reason == "太贵了\n\n！"


def test_an_invisible_reason_is_no_reason(make_poll, member):
    poll = make_poll("proposal")
    vote(member[1], poll, {"position": "agree", "reason": INVISIBLE})
    assert Ballot.objects.get(poll=poll).reason == ""


# --- renames (services and admin) ---------------------------------------------------------------
def test_a_rename_to_a_look_alike_label_is_refused(make_poll, moderator):
    poll = make_poll("single", labels=("爬山", "桌游"))
    _first, second = option_ids(poll)
    before = snapshot(poll)
    for label in ("爬山" + ZW, " 爬山 ", "爬山\u00ad"):
        with pytest.raises(DomainError) as refused:
            services.option_update(actor=moderator[0], option_id=second, label=label)
        assert refused.value.code == "duplicate_option"
    with pytest.raises(DomainError) as blank:
        services.option_update(actor=moderator[0], option_id=second, label=INVISIBLE)
    assert blank.value.code == "label_required"
    assert snapshot(poll) == before
    renamed = services.option_update(actor=moderator[0], option_id=second, label=f"桌游{ZW}吧")
    assert renamed.label == "桌游吧"


@pytest.fixture
def staff(client, community):
    user = UserFactory(is_staff=True)
    MembershipFactory(community=community, user=user, tier=Tier.MODERATOR)
    client.force_login(user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def _page_errors(response) -> str:
    text = [str(m) for m in response.context["messages"] if m.level_tag == "error"]
    if response.context.get("adminform"):
        text.append(str(response.context["adminform"].form.errors))
        for inline in response.context["inline_admin_formsets"]:
            text.append(str(inline.formset.non_form_errors()))
    return " ".join(text)


def test_the_admin_stores_poll_texts_in_normal_form(staff, community):
    data = _add_form(
        community,
        title=f"{RLO}Admin{ZW} poll ",
        **{"options-TOTAL_FORMS": 2, "options-0-label": "ＡＢＣ", "options-1-label": "桌游"},
        **{"options-1-position": 2},
    )
    response = staff.post("/admin/polls/poll/add/", data)
    assert response.status_code == 302, _page_errors(response)
    poll = Poll.objects.get()
    assert poll.title == "Admin poll"
    assert sorted(poll.options.values_list("label", flat=True)) == ["ABC", "桌游"]


@pytest.mark.parametrize(
    "change",
    [
        {"title": INVISIBLE},
        {"options-0-label": "abc", "options-1-label": "ＡＢＣ"},
    ],
)
def test_the_admin_refuses_blank_and_look_alike_texts_of_a_new_poll(staff, community, change):
    data = _add_form(
        community, **{"options-TOTAL_FORMS": 2, "options-1-position": 2, "options-1-label": "B"}
    )
    data.update(change)
    response = staff.post("/admin/polls/poll/add/", data)
    assert response.status_code == 200
    assert "empty once invisible" in _page_errors(response) or "same label" in _page_errors(
        response
    )
    assert not Poll.objects.exists()


def test_the_admin_refuses_a_look_alike_rename_and_saves_nothing(staff, make_poll):
    poll = make_poll("single", labels=("爬山", "桌游"))
    before = snapshot(poll)
    data = change_form(staff, f"/admin/polls/poll/{poll.pk}/change/")
    data["options-1-label"] = "爬山" + ZW
    data["title"] = "Also a new title"
    response = staff.post(f"/admin/polls/poll/{poll.pk}/change/", data, follow=True)
    assert "already has an option with that label" in _page_errors(response)
    assert snapshot(poll) == before
    assert Poll.objects.get(pk=poll.pk).title == "single poll"


def test_the_admin_refuses_an_invisible_title_on_edit(staff, make_poll):
    poll = make_poll("single")
    data = change_form(staff, f"/admin/polls/poll/{poll.pk}/change/")
    data["title"] = ZW + RLO
    response = staff.post(f"/admin/polls/poll/{poll.pk}/change/", data, follow=True)
    assert "empty once invisible" in _page_errors(response)
    assert Poll.objects.get(pk=poll.pk).title == "single poll"
