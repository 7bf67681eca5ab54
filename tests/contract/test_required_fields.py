"""Fields that are always sent are required in the contract, and nothing is sent that the
contract does not list: real answers of the main endpoints compared with the schema."""

from __future__ import annotations

import pytest

from community.models import Tier
from tests.contract.conformance import assert_conforms, problems
from tests.polls.conftest import option_ids
from tests.surveys.factories import basic_questions, make_survey, with_condition

pytestmark = pytest.mark.django_db

BALLOTS = {
    "single": lambda o: {"option_ids": [o[0]]},
    "multiple": lambda o: {"option_ids": o[:2]},
    "ranked": lambda o: {"ranking": o},
    "score": lambda o: {"scores": {o[0]: 4, o[1]: 2}},
    "proposal": lambda o: {"position": "disagree", "reason": "太贵"},
    "time": lambda o: {"answers": {o[0]: "yes", o[1]: "if_need_be"}},
}


@pytest.fixture
def moderator(make_member):
    return make_member(tier=Tier.MODERATOR)


def test_the_checker_sees_a_missing_and_an_optional_field():
    schema = {
        "type": "object",
        "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
        "required": ["a"],
    }
    assert problems({"b": 1}, schema) == [
        "$.a: required but not sent",
        "$.b: always sent here but optional in the contract",
    ]


def test_community_endpoints(community, member, moderator, api_client):
    _m, client = member
    _mod, mod_client = moderator
    assert_conforms(api_client.get("/api/v1/"), "getApiIndex")
    assert_conforms(client.get("/api/v1/me"), "getMyProfile")
    assert_conforms(client.get("/api/v1/communities"), "listMyCommunities")
    assert_conforms(client.get(f"/api/v1/communities/{community.pk}"), "getCommunity")
    assert_conforms(mod_client.get(f"/api/v1/communities/{community.pk}/members"), "listMembers")
    assert_conforms(client.get(f"/api/v1/communities/{community.pk}/members"), "listMembers")


@pytest.mark.parametrize("secret", [False, True], ids=["named", "secret"])
@pytest.mark.parametrize("kind", list(BALLOTS))
def test_poll_endpoints(community, member, moderator, kind, secret):
    _m, client = member
    _mod, mod_client = moderator
    labels = ["10:00", "14:00", "18:00"] if kind == "time" else ["A", "B", "C"]
    create = {
        "title": f"{kind} 投票",
        "kind": kind,
        "secret": secret,
        "closes_at": "2099-01-01T20:00:00+08:00",
        "min_ballots_to_show": 1,
    }
    if kind == "time":
        create["options"] = [
            {"starts_at": f"2098-06-0{i + 1}T10:00:00+08:00"} for i in range(len(labels))
        ]
    elif kind != "proposal":
        create["options"] = [{"label": label} for label in labels]
    if kind == "multiple":
        create["max_selections"] = 2
    if secret and kind == "proposal":
        create["min_ballots_to_show"] = 1
    created = assert_conforms(
        mod_client.post(f"/api/v1/communities/{community.pk}/polls", create, format="json"),
        "createPoll",
    )
    poll_id = created["id"]
    from polls.models import Poll

    ids = option_ids(Poll.objects.get(pk=poll_id))
    body = BALLOTS[kind](ids)
    if secret:
        body.pop("reason", None)
    assert_conforms(client.get(f"/api/v1/polls/{poll_id}/ballot"), "getMyBallot")
    assert_conforms(
        client.put(f"/api/v1/polls/{poll_id}/ballot", body, format="json"), "castBallot"
    )
    assert_conforms(client.get(f"/api/v1/polls/{poll_id}/ballot"), "getMyBallot")
    assert_conforms(client.get(f"/api/v1/polls/{poll_id}"), "getPoll")
    assert_conforms(client.get(f"/api/v1/polls/{poll_id}/results"), "getPollResults")
    assert_conforms(client.get(f"/api/v1/communities/{community.pk}/polls"), "listPolls")
    assert_conforms(mod_client.get(f"/api/v1/polls/{poll_id}/non-voters"), "listNonVoters")
    if not secret:
        assert_conforms(mod_client.get(f"/api/v1/polls/{poll_id}/voters"), "listVoters")
    if kind != "proposal":
        assert_conforms(
            mod_client.post(f"/api/v1/polls/{poll_id}/options", {"label": "新"}, format="json")
            if kind != "time"
            else mod_client.post(
                f"/api/v1/polls/{poll_id}/options",
                {"starts_at": "2098-07-01T10:00:00+08:00"},
                format="json",
            ),
            "addPollOption",
        )
    assert_conforms(mod_client.post(f"/api/v1/polls/{poll_id}/close"), "closePoll")
    assert_conforms(client.get(f"/api/v1/polls/{poll_id}/results"), "getPollResults")
    assert_conforms(mod_client.get(f"/api/v1/polls/{poll_id}/results"), "getPollResults")


@pytest.mark.parametrize("anonymous", [False, True], ids=["named", "anonymous"])
def test_survey_endpoints(community, member, anonymous):
    _m, client = member
    survey = with_condition(
        make_survey(
            community,
            [
                *basic_questions(),
                {"key": "n", "type": "number", "title": "几人?"},
                {"key": "m", "type": "matrix", "title": "评价", "rows": ["环境", "服务"]},
                {"key": "r", "type": "ranking", "title": "排序", "choices": ["甲", "乙"]},
                {"key": "p", "type": "nps", "title": "推荐?"},
            ],
            anonymous=anonymous,
            publish_results=True,
            allow_edit_after_submit=True,
            min_group_size=2,
        )
    )
    base = f"/api/v1/surveys/{survey.pk}"
    assert_conforms(
        client.get(f"/api/v1/communities/{community.pk}/surveys"), "listCommunitySurveys"
    )
    assert_conforms(client.get("/api/v1/surveys"), "listMySurveys")
    assert_conforms(client.get(base), "getSurvey")
    assert_conforms(client.get(f"{base}/draft"), "getMyDraft")
    draft = assert_conforms(
        client.put(f"{base}/draft", {"answers": {survey.q["q2"].id: 3}}, format="json"),
        "saveMyDraft",
    )
    headers = {"HTTP_X_RESPONSE_TOKEN": draft["response_token"]} if anonymous else {}
    assert_conforms(client.get(f"{base}/draft", **headers), "getMyDraft")
    answers = {
        survey.q["q1"].id: {"choice": survey.c["q1"]["Yes"].id},
        survey.q["q2"].id: 4,
        survey.q["q3"].id: "好",
        survey.q["n"].id: 3,
        survey.q["m"].id: {survey.c["m"]["环境"].id: 4},
        survey.q["r"].id: [survey.c["r"]["乙"].id, survey.c["r"]["甲"].id],
        survey.q["p"].id: 9,
    }
    submitted = assert_conforms(
        client.post(f"{base}/submit", {"answers": answers}, format="json", **headers),
        "submitResponse",
    )
    if anonymous:
        headers = {"HTTP_X_RESPONSE_TOKEN": submitted["response_token"]}
    assert_conforms(client.get(f"{base}/response", **headers), "getMyResponse")
    assert_conforms(
        client.put(f"{base}/response", {"answers": answers}, format="json", **headers),
        "editMyResponse",
    )
    assert_conforms(client.get(f"{base}/results"), "getSurveyResults")
