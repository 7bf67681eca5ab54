"""The member-facing surveys API: list, detail, drafts, submit, edit, results, permissions."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from surveys import services
from surveys.models import Answer, Participation, Response, SealedResponse, Survey, SurveyStatus
from tests.conftest import client_for
from tests.factories import CommunityFactory, MembershipFactory
from tests.surveys.factories import basic_questions, make_survey, with_condition

pytestmark = pytest.mark.django_db


@pytest.fixture
def survey(community):
    return with_condition(make_survey(community, basic_questions(), thank_you_text="谢谢!"))


def full_answers(survey, *, yes=True):
    answers = {
        survey.q["q1"].id: {"choice": survey.c["q1"]["Yes" if yes else "No"].id},
        survey.q["q2"].id: 4,
    }
    if yes:
        answers[survey.q["q3"].id] = "因为好玩"
    return answers


def error_attrs(response):
    return {e["attr"] for e in response.json()["errors"]}


# --- list -----------------------------------------------------------------------------------
def test_list_shows_open_surveys_with_my_status(community, member, survey):
    _m, client = member
    make_survey(community, basic_questions(), title="草稿", status=SurveyStatus.DRAFT)
    make_survey(community, basic_questions(), title="已关", status=SurveyStatus.CLOSED)
    make_survey(
        community, basic_questions(), title="过期", closes_at=timezone.now() - timedelta(hours=1)
    )
    make_survey(
        community, basic_questions(), title="未开", opens_at=timezone.now() + timedelta(hours=1)
    )
    url = f"/api/v1/communities/{community.id}/surveys"
    body = client.get(url).json()
    assert len(body["results"]) == 1
    assert body["results"][0]["id"] == survey.id
    assert body["results"][0]["my_status"] == "not_started"
    assert body["results"][0]["state"] == "open"

    client.put(f"/api/v1/surveys/{survey.id}/draft", {"answers": {}}, format="json")
    assert client.get(url).json()["results"][0]["my_status"] == "draft"
    client.post(
        f"/api/v1/surveys/{survey.id}/submit", {"answers": full_answers(survey)}, format="json"
    )
    assert client.get(url).json()["results"][0]["my_status"] == "submitted"


def test_list_of_other_community_is_404(outsider, survey, community):
    _user, client = outsider
    response = client.get(f"/api/v1/communities/{community.id}/surveys")
    assert response.status_code == 404


def test_my_surveys_span_my_communities_only(community, member, survey):
    membership, client = member
    other = CommunityFactory()
    MembershipFactory(community=other, user=membership.user)
    theirs = make_survey(other, basic_questions(), title="另一个群的问卷")
    banned_from = CommunityFactory()
    MembershipFactory(community=banned_from, user=membership.user, status="banned")
    make_survey(banned_from, basic_questions(), title="被封禁的群")
    make_survey(CommunityFactory(), basic_questions(), title="陌生的群")
    client.put(f"/api/v1/surveys/{survey.id}/draft", {"answers": {}}, format="json")

    body = client.get("/api/v1/surveys").json()
    cards = {card["id"]: card for card in body["results"]}
    assert set(cards) == {survey.id, theirs.id}
    assert cards[survey.id]["community_id"] == community.id
    assert cards[survey.id]["my_status"] == "draft"
    assert cards[theirs.id]["my_status"] == "not_started"


def test_my_surveys_query_count_is_fixed(member, community, django_assert_num_queries):
    _membership, client = member
    make_survey(community, basic_questions())
    # token, page (a cursor needs no count)
    with django_assert_num_queries(2):
        client.get("/api/v1/surveys")
    for _ in range(5):
        make_survey(community, basic_questions())
    with django_assert_num_queries(2):
        assert len(client.get("/api/v1/surveys").json()["results"]) == 6


# --- detail ---------------------------------------------------------------------------------
def test_detail_renders_questions_choices_and_logic(member, survey):
    _m, client = member
    body = client.get(f"/api/v1/surveys/{survey.id}").json()
    assert body["title"] == survey.title
    assert body["thank_you_text"] == "谢谢!"
    assert [q["id"] for q in body["questions"]] == [survey.q[k].id for k in ("q1", "q2", "q3")]
    q1, q2, q3 = body["questions"]
    assert [c["label"] for c in q1["choices"]] == ["Yes", "No"]
    assert q2["scale_min"] == 1 and q2["scale_max"] == 5
    assert q3["max_length"] == 20
    assert q3["condition"] == {
        "match": "all",
        "rules": [
            {"question_id": q1["id"], "operator": "equals", "value": survey.c["q1"]["Yes"].id}
        ],
    }
    assert body["my_status"] == "not_started"


def test_detail_shuffles_choices_stably_per_member(community, make_member):
    labels = [f"选项{i}" for i in range(12)]
    survey = make_survey(
        community,
        [{"type": "single_choice", "title": "?", "choices": labels, "shuffle_choices": True}],
    )
    orders = []
    for _ in range(3):
        _m, client = make_member()
        first = client.get(f"/api/v1/surveys/{survey.id}").json()["questions"][0]["choices"]
        again = client.get(f"/api/v1/surveys/{survey.id}").json()["questions"][0]["choices"]
        assert first == again
        assert sorted(c["label"] for c in first) == sorted(labels)
        orders.append([c["label"] for c in first])
    assert len({tuple(o) for o in orders}) > 1


@pytest.mark.parametrize("who", ["outsider", "other_community", "pending", "banned"])
def test_detail_hidden_from_non_members(who, community, make_member, outsider, survey):
    if who == "outsider":
        client = outsider[1]
    elif who == "other_community":
        client = make_member(community=CommunityFactory())[1]
    else:
        client = make_member(status=who)[1]
    for path in ("", "/draft", "/results", "/response"):
        assert client.get(f"/api/v1/surveys/{survey.id}{path}").status_code == 404
    response = client.post(
        f"/api/v1/surveys/{survey.id}/submit", {"answers": full_answers(survey)}, format="json"
    )
    assert response.status_code == 404
    assert Response.objects.count() == 0


def test_draft_survey_is_404(member, community):
    draft = make_survey(community, basic_questions(), status=SurveyStatus.DRAFT)
    assert member[1].get(f"/api/v1/surveys/{draft.id}").status_code == 404


# --- drafts ---------------------------------------------------------------------------------
def test_draft_is_saved_and_resumed_on_another_device(member, survey):
    membership, client = member
    q1 = survey.q["q1"].id
    response = client.put(
        f"/api/v1/surveys/{survey.id}/draft",
        {"answers": {q1: {"choice": survey.c["q1"]["Yes"].id}}},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["visible_question_ids"] == [survey.q[k].id for k in ("q1", "q2", "q3")]
    other_device = client_for(membership.user)
    body = other_device.get(f"/api/v1/surveys/{survey.id}/draft").json()
    assert body["answers"] == {q1: {"choice": survey.c["q1"]["Yes"].id}}
    assert body["my_status"] == "draft"
    assert Response.objects.get().respondent == membership.user
    assert Answer.objects.count() == 0  # drafts are not reported


def test_draft_drops_hidden_answers(member, survey):
    _m, client = member
    answers = {
        survey.q["q1"].id: {"choice": survey.c["q1"]["No"].id},
        survey.q["q3"].id: "hidden",
    }
    body = client.put(
        f"/api/v1/surveys/{survey.id}/draft", {"answers": answers}, format="json"
    ).json()
    assert survey.q["q3"].id not in body["answers"]


def test_submit_stored_draft_with_empty_body(member, survey):
    _m, client = member
    client.put(
        f"/api/v1/surveys/{survey.id}/draft", {"answers": full_answers(survey)}, format="json"
    )
    response = client.post(f"/api/v1/surveys/{survey.id}/submit", {}, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["thank_you_text"] == "谢谢!"
    assert Response.objects.get().status == "submitted"
    assert Answer.objects.count() == 3
    assert Survey.objects.get().submitted_count == 1


def test_submit_incomplete_draft_names_missing_question(member, survey):
    _m, client = member
    q1 = survey.q["q1"].id
    client.put(
        f"/api/v1/surveys/{survey.id}/draft",
        {"answers": {q1: {"choice": survey.c["q1"]["Yes"].id}}},
        format="json",
    )
    response = client.post(f"/api/v1/surveys/{survey.id}/submit", {}, format="json")
    assert response.status_code == 400
    assert error_attrs(response) == {f"answers.{survey.q['q2'].id}", f"answers.{survey.q['q3'].id}"}
    assert Response.objects.get().status == "draft"


# --- submit ---------------------------------------------------------------------------------
def test_submit_once_per_member(member, survey):
    _m, client = member
    url = f"/api/v1/surveys/{survey.id}/submit"
    assert client.post(url, {"answers": full_answers(survey)}, format="json").status_code == 201
    response = client.post(url, {"answers": full_answers(survey)}, format="json")
    assert response.status_code == 409
    assert response.json()["errors"][0]["code"] == "already_submitted"
    assert Response.objects.count() == 1
    put = client.put(f"/api/v1/surveys/{survey.id}/draft", {"answers": {}}, format="json")
    assert put.status_code == 409


def test_several_responses_when_allowed(member, survey):
    Survey.objects.filter(pk=survey.pk).update(allow_multiple_responses=True)
    _m, client = member
    url = f"/api/v1/surveys/{survey.id}/submit"
    for _ in range(3):
        assert client.post(url, {"answers": full_answers(survey)}, format="json").status_code == 201
    assert Response.objects.filter(status="submitted").count() == 3
    assert Participation.objects.get().submissions == 3


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"status": SurveyStatus.CLOSED}, "survey_closed"),
        ({"closes_at": timezone.now() - timedelta(minutes=1)}, "survey_closed"),
        ({"opens_at": timezone.now() + timedelta(hours=1)}, "survey_not_open"),
        ({"response_cap": 0}, "survey_full"),
    ],
)
def test_closed_or_full_survey_refuses_and_saves_nothing(member, survey, change, code):
    Survey.objects.filter(pk=survey.pk).update(**change)
    _m, client = member
    for method, path in (("post", "submit"), ("put", "draft")):
        response = getattr(client, method)(
            f"/api/v1/surveys/{survey.id}/{path}", {"answers": full_answers(survey)}, format="json"
        )
        assert response.status_code == 409, response.json()
        assert response.json()["errors"][0]["code"] == code
    assert Response.objects.count() == 0
    assert Participation.objects.count() == 0


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [({"status": "muted"}, "muted"), ({"rules_accepted_version": 0}, "rules_not_accepted")],
)
def test_muted_or_rules_not_accepted_is_403(community, make_member, survey, kwargs, code):
    community.rules_version = 2
    community.save()
    kwargs = {"rules_accepted_version": 2, **kwargs}
    _m, client = make_member(**kwargs)
    response = client.post(
        f"/api/v1/surveys/{survey.id}/submit", {"answers": full_answers(survey)}, format="json"
    )
    assert response.status_code == 403
    assert response.json()["errors"][0]["code"] == code
    assert client.get(f"/api/v1/surveys/{survey.id}").status_code == 200  # may still read
    assert Response.objects.count() == 0


# --- edit -----------------------------------------------------------------------------------
def test_edit_after_submit_when_allowed(member, survey):
    Survey.objects.filter(pk=survey.pk).update(allow_edit_after_submit=True)
    _m, client = member
    client.post(
        f"/api/v1/surveys/{survey.id}/submit", {"answers": full_answers(survey)}, format="json"
    )
    response = client.put(
        f"/api/v1/surveys/{survey.id}/response",
        {"answers": full_answers(survey, yes=False)},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert survey.q["q3"].id not in response.json()["answers"]
    assert Answer.objects.count() == 2
    assert Answer.objects.get(question=survey.q["q1"]).choice == survey.c["q1"]["No"]
    assert Survey.objects.get().submitted_count == 1
    got = client.get(f"/api/v1/surveys/{survey.id}/response").json()
    assert got["answers"] == response.json()["answers"]

    Survey.objects.filter(pk=survey.pk).update(status=SurveyStatus.CLOSED)
    response = client.put(
        f"/api/v1/surveys/{survey.id}/response", {"answers": full_answers(survey)}, format="json"
    )
    assert response.status_code == 409
    assert Answer.objects.get(question=survey.q["q1"]).choice == survey.c["q1"]["No"]


def test_edit_refused_when_not_allowed(member, survey):
    _m, client = member
    client.post(
        f"/api/v1/surveys/{survey.id}/submit", {"answers": full_answers(survey)}, format="json"
    )
    response = client.put(
        f"/api/v1/surveys/{survey.id}/response",
        {"answers": full_answers(survey, yes=False)},
        format="json",
    )
    assert response.status_code == 409
    assert response.json()["errors"][0]["code"] == "editing_not_allowed"


def test_edit_without_submission_is_404(member, survey):
    Survey.objects.filter(pk=survey.pk).update(allow_edit_after_submit=True)
    response = member[1].put(
        f"/api/v1/surveys/{survey.id}/response", {"answers": full_answers(survey)}, format="json"
    )
    assert response.status_code == 404


# --- anonymous ------------------------------------------------------------------------------
def test_anonymous_response_has_no_member_link(member, survey):
    Survey.objects.filter(pk=survey.pk).update(anonymous=True, allow_edit_after_submit=True)
    membership, client = member
    url = f"/api/v1/surveys/{survey.id}"
    draft = client.put(f"{url}/draft", {"answers": {survey.q["q2"].id: 3}}, format="json").json()
    token = draft["response_token"]
    assert token
    # resume on another device with the token; without it there is no draft to see
    other = client_for(membership.user)
    assert other.get(f"{url}/draft").json()["answers"] == {}
    resumed = other.get(f"{url}/draft", HTTP_X_RESPONSE_TOKEN=token).json()
    assert resumed["answers"] == {survey.q["q2"].id: 3}
    assert resumed["my_status"] == "draft"

    submitted = other.post(
        f"{url}/submit",
        {"answers": full_answers(survey)},
        format="json",
        HTTP_X_RESPONSE_TOKEN=token,
    )
    assert submitted.status_code == 201, submitted.json()
    assert submitted.json()["response_id"] is None
    # A fresh token: the draft's was stored next to the participation's transaction.
    new_token = submitted.json()["response_token"]
    assert new_token and new_token != token
    # Nothing readable yet: the response waits sealed in the box, the draft is gone.
    assert not Response.objects.exists()
    assert SealedResponse.objects.count() == 1
    participation = Participation.objects.get()
    assert participation.user == membership.user
    assert participation.draft_id is None and participation.submitted_id is None
    # one per member still holds
    again = client.post(f"{url}/submit", {"answers": full_answers(survey)}, format="json")
    assert again.status_code == 409
    # the member sees their waiting response with the token, and edits it through the box
    mine = client.get(f"{url}/response", HTTP_X_RESPONSE_TOKEN=new_token)
    assert mine.json()["answers"] == submitted.json()["answers"]
    edited = client.put(
        f"{url}/response",
        {"answers": full_answers(survey, yes=False)},
        format="json",
        HTTP_X_RESPONSE_TOKEN=new_token,
    )
    assert edited.status_code == 200
    assert SealedResponse.objects.count() == 1 and not Response.objects.exists()
    for stale in (None, token):
        refused = client.put(
            f"{url}/response",
            {"answers": full_answers(survey)},
            format="json",
            **({"HTTP_X_RESPONSE_TOKEN": stale} if stale else {}),
        )
        assert refused.status_code == 404
    # closing mixes the last batch even below k; the mixed row has the edited answers
    Survey.objects.filter(pk=survey.pk).update(status="closed")
    assert services.survey_responses_mix(survey_id=survey.pk) == 1
    response = Response.objects.get()
    assert response.respondent is None and response.respondent_key == ""
    assert response.answers == edited.json()["answers"]
    assert (
        client.get(f"{url}/response", HTTP_X_RESPONSE_TOKEN=new_token).json()["answers"]
        == (edited.json()["answers"])
    )
    assert not SealedResponse.objects.exists()


# --- results --------------------------------------------------------------------------------
def test_results_only_when_published(community, make_member, survey):
    _m, client = make_member()
    assert client.get(f"/api/v1/surveys/{survey.id}/results").status_code == 403
    Survey.objects.filter(pk=survey.pk).update(publish_results=True)
    for yes, rating in ((True, 5), (True, 4), (False, 1)):
        answers = full_answers(survey, yes=yes)
        answers[survey.q["q2"].id] = rating
        other = make_member()[1]
        assert (
            other.post(
                f"/api/v1/surveys/{survey.id}/submit", {"answers": answers}, format="json"
            ).status_code
            == 201
        )
    body = client.get(f"/api/v1/surveys/{survey.id}/results").json()
    assert body["participant_count"] == 3
    q1, q2, q3 = body["questions"]
    assert [(c["label"], c["count"], c["percent"]) for c in q1["choices"]] == [
        ("Yes", 2, 66.7),
        ("No", 1, 33.3),
    ]
    assert q2["mean"] == pytest.approx(3.33) and q2["median"] == 4
    assert [p["count"] for p in q2["distribution"]] == [1, 0, 0, 1, 1]
    assert q3["answered"] == 2 and "texts" not in q3


def test_membership_factory_importable():
    assert MembershipFactory  # used by other modules' fixtures


def test_page_condition_hides_its_questions(community, member):
    survey = make_survey(
        community,
        [
            {
                "key": "q1",
                "type": "single_choice",
                "title": "来吗?",
                "required": True,
                "choices": ["Yes", "No"],
                "page": 0,
            },
            {"key": "q2", "type": "date", "title": "哪天?", "required": True, "page": 1},
        ],
        pages=[{"title": "一"}, {"title": "二"}],
    )
    page2 = survey.pages_[1]
    page2.condition = {
        "match": "any",
        "rules": [
            {
                "question_id": survey.q["q1"].id,
                "operator": "equals",
                "value": survey.c["q1"]["Yes"].id,
            }
        ],
    }
    page2.save()
    _m, client = member
    body = client.get(f"/api/v1/surveys/{survey.id}").json()
    assert [p["title"] for p in body["pages"]] == ["一", "二"]
    assert body["pages"][1]["condition"]["match"] == "any"
    assert [q["page_id"] for q in body["questions"]] == [p.id for p in survey.pages_]
    yes = {survey.q["q1"].id: {"choice": survey.c["q1"]["Yes"].id}}
    response = client.post(f"/api/v1/surveys/{survey.id}/submit", {"answers": yes}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == f"answers.{survey.q['q2'].id}"
    no = {survey.q["q1"].id: {"choice": survey.c["q1"]["No"].id}}
    response = client.post(f"/api/v1/surveys/{survey.id}/submit", {"answers": no}, format="json")
    assert response.status_code == 201


def test_cached_definition_follows_edits(member, survey, community):
    """An edit through the authoring service bumps the version, the key of the cached
    definition: the next read shows the edit."""
    _m, client = member
    assert client.get(f"/api/v1/surveys/{survey.id}").json()["questions"][1]["title"] == "打分"
    moderator = MembershipFactory(community=community, tier="moderator")
    services.question_update(actor=moderator, question_id=survey.q["q2"].id, title="新标题")
    assert client.get(f"/api/v1/surveys/{survey.id}").json()["questions"][1]["title"] == "新标题"
