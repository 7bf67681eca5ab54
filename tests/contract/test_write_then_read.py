"""Every write answers the representation a ``GET`` right after would answer, so the
mini-program can show the answer of a write without reading again.

Stated exceptions: tokens and receipts handed out once (``response_token`` of an anonymous
survey, the ``receipt`` and choices of a secret ballot) appear only in the write's answer."""

from __future__ import annotations

import pytest

from community.models import Tier
from tests.surveys.factories import basic_questions, make_survey, with_condition

pytestmark = pytest.mark.django_db

PASS = {"errcode": 0, "errmsg": "ok", "result": {"suggest": "pass", "label": 100}}


@pytest.fixture
def admin(make_member):
    return make_member(tier=Tier.ADMIN)


def _same(write, read, *, ignore=()):
    assert write.status_code in {200, 201}, write.json()
    assert read.status_code == 200, read.json()
    written = {k: v for k, v in write.json().items() if k not in ignore}
    shown = {k: v for k, v in read.json().items() if k not in ignore}
    assert written == shown


def _poll(client, community, kind="single", **extra):
    body = {
        "title": "周末去哪",
        "kind": kind,
        "closes_at": "2099-01-01T20:00:00+08:00",
        "options": [{"label": "爬山"}, {"label": "桌游"}],
        **extra,
    }
    return client.post(f"/api/v1/communities/{community.pk}/polls", body, format="json")


def test_poll_writes(community, admin, member, settings):
    settings.WECHAT_CONTENT_CHECK = False  # unreachable WeChat would hold the poll (404 by id)
    _a, client = admin
    created = _poll(client, community, allow_vote_change=True)
    poll_id = created.json()["id"]
    _same(created, client.get(f"/api/v1/polls/{poll_id}"))

    option = client.post(f"/api/v1/polls/{poll_id}/options", {"label": "露营"}, format="json")
    assert option.status_code == 201
    assert option.json() in client.get(f"/api/v1/polls/{poll_id}").json()["options"]

    _m, voter = member
    ids = [o["id"] for o in created.json()["options"]]
    for body in ({"kind": "single", "option_ids": [ids[0]]}, {"option_ids": [ids[1]]}):
        cast = voter.put(f"/api/v1/polls/{poll_id}/ballot", body, format="json")
        _same(cast, voter.get(f"/api/v1/polls/{poll_id}/ballot"))
        assert cast.json()["updated_at"] is not None

    _same(client.post(f"/api/v1/polls/{poll_id}/close"), client.get(f"/api/v1/polls/{poll_id}"))
    _same(
        client.post(
            f"/api/v1/polls/{poll_id}/reopen",
            {"closes_at": "2099-02-01T20:00:00+08:00"},
            format="json",
        ),
        client.get(f"/api/v1/polls/{poll_id}"),
    )


@pytest.mark.parametrize("reason", ["", "太贵"])
def test_a_proposal_ballot_shows_its_reason_the_same_before_and_after(
    community, admin, member, reason, settings
):
    settings.WECHAT_CONTENT_CHECK = False  # unreachable WeChat would hold the poll (404 by id)
    _a, client = admin
    poll_id = _poll(client, community, kind="proposal", options=[]).json()["id"]
    _m, voter = member
    before = voter.get(f"/api/v1/polls/{poll_id}/ballot").json()
    assert before["reason"] is None and before["updated_at"] is None
    body = {"kind": "proposal", "position": "disagree", "reason": reason}
    cast = voter.put(f"/api/v1/polls/{poll_id}/ballot", body, format="json")
    _same(cast, voter.get(f"/api/v1/polls/{poll_id}/ballot"))
    assert cast.json()["reason"] == (reason or None)


@pytest.mark.parametrize("anonymous", [False, True], ids=["named", "anonymous"])
def test_survey_writes(community, member, anonymous):
    _m, client = member
    survey = with_condition(
        make_survey(
            community,
            [*basic_questions(), {"key": "n", "type": "number", "title": "几人?"}],
            anonymous=anonymous,
            allow_edit_after_submit=True,
        )
    )
    base = f"/api/v1/surveys/{survey.pk}"
    once = {"response_token"}
    draft = client.put(
        f"{base}/draft", {"answers": {survey.q["n"].id: 3, survey.q["q2"].id: 4}}, format="json"
    )
    token = {"HTTP_X_RESPONSE_TOKEN": draft.json()["response_token"]} if anonymous else {}
    _same(draft, client.get(f"{base}/draft", **token), ignore=once)
    assert draft.json()["answers"][survey.q["n"].id] == 3  # a number stays a number

    answers = {
        survey.q["q1"].id: {"choice": survey.c["q1"]["Yes"].id},
        survey.q["q2"].id: 4,
        survey.q["q3"].id: "好",
        survey.q["n"].id: 12.5,
    }
    submitted = client.post(f"{base}/submit", {"answers": answers}, format="json", **token)
    assert submitted.status_code == 201
    if anonymous:
        token = {"HTTP_X_RESPONSE_TOKEN": submitted.json()["response_token"]}
    _same(submitted, client.get(f"{base}/response", **token), ignore=once)
    assert submitted.json()["answers"][survey.q["n"].id] == 12.5

    answers[survey.q["n"].id] = "7"
    edited = client.put(f"{base}/response", {"answers": answers}, format="json", **token)
    _same(edited, client.get(f"{base}/response", **token), ignore=once)
    assert edited.json()["answers"][survey.q["n"].id] == 7


def test_community_writes(community, admin, member, wechat_server):
    wechat_server.expect_request("/wxa/msg_sec_check").respond_with_json(PASS)
    _a, client = admin
    url = f"/api/v1/communities/{community.pk}"
    _same(client.patch(url, {"description": "周末一起走"}, format="json"), client.get(url))
    _same(client.post(f"{url}/invite-code/regenerate"), client.get(url))
    _same(client.patch("/api/v1/me", {"nickname": "小王"}, format="json"), client.get("/api/v1/me"))

    target, _client = member
    muted = client.post(f"{url}/members/{target.pk}/mute")
    listed = client.get(f"{url}/members", {"status": "muted"}).json()["results"]
    assert muted.json() in listed
