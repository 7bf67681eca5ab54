"""A quiz feeds a lucky draw (source ``quiz_scorers``): everyone with at least ``min_points``
enters. Over HTTP end to end (quiz start, submit, draw create, draw, recompute), and the
refusals (a survey that is not a quiz, another community's quiz, bad ``min_points``) in the one
error shape with nothing written."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from games.models import Draw, DrawRound
from games.verify import entries_hash, verify_publication
from tests.factories import CommunityFactory
from tests.games.helpers import create_draw
from tests.games.test_admin import form, staff
from tests.surveys.factories import basic_questions, make_survey

pytestmark = pytest.mark.django_db


def _quiz(community):
    """A published quiz worth 10 points: ``a`` (2 points), ``b`` (4), ``c`` (4), each a single
    choice whose right answer is "对"."""
    return make_survey(
        community,
        [
            {
                "key": key,
                "type": "single_choice",
                "title": f"第 {key} 题",
                "required": True,
                "choices": [{"label": "对", "is_correct": True}, "错"],
                "quiz_points": points,
            }
            for key, points in (("a", 2), ("b", 4), ("c", 4))
        ],
        quiz_mode=True,
        title="知识竞赛",
    )


def _play(client, quiz, right: set[str]) -> None:
    base = f"/api/v1/surveys/{quiz.id}"
    assert client.post(f"{base}/quiz/start", {}, format="json").status_code == 200
    answers = {
        quiz.q[key].id: {"choice": quiz.c[key]["对" if key in right else "错"].id}
        for key in ("a", "b", "c")
    }
    response = client.post(f"{base}/submit", {"answers": answers}, format="json")
    assert response.status_code == 201, response.json()


def _codes(response) -> list[str]:
    body = response.json()
    assert set(body) == {"type", "errors"}
    return [e["code"] for e in body["errors"]]


def _body(soon, **extra) -> dict:
    return {
        "title": "答题抽奖",
        "prizes": [{"name": "奖", "quantity": 1}],
        "closes_at": soon.isoformat(),
        **extra,
    }


def test_quiz_with_at_least_n_points_feeds_the_draw(community, admin, make_member, soon):
    admin_m, admin_c = admin
    quiz = _quiz(community)
    players = [make_member() for _ in range(3)]
    for (_m, client), right in zip(players, [{"a", "b", "c"}, {"a", "b"}, {"a"}], strict=True):
        _play(client, quiz, right)
    scores = [
        client.get(f"/api/v1/surveys/{quiz.id}/quiz").json()["score"] for _m, client in players
    ]
    assert scores == [10, 6, 2]

    created = create_draw(
        admin_c, community, soon, source="quiz_scorers", source_id=quiz.id, min_points=6
    )
    assert (created["source"], created["source_id"], created["min_points"]) == (
        "quiz_scorers",
        quiz.id,
        6,
    )
    # before the freeze each player sees whether they would be in
    entered = [
        client.get(f"/api/v1/draws/{created['id']}").json()["me"]["entered"]
        for _m, client in players
    ]
    assert entered == [True, True, False]

    drawn = admin_c.post(f"/api/v1/draws/{created['id']}/draw").json()
    assert drawn["status"] == "drawn" and drawn["entry_count"] == 2

    publication = players[2][1].get(f"/api/v1/draws/{created['id']}/publication").json()
    assert publication["entries_hash"] == entries_hash(publication["entries"])
    mine = {
        m.pk: client.get(f"/api/v1/draws/{created['id']}").json()["me"]["entry_id"]
        for m, client in players
    }
    # exactly the two with 10 and 6 points are frozen, the one with 2 is not
    assert sorted(publication["entries"]) == sorted(
        [mine[players[0][0].pk], mine[players[1][0].pk]]
    )
    assert mine[players[2][0].pk] not in publication["entries"]
    result = verify_publication(publication)
    assert result.ok, result.problems
    assert [(p, e) for _n, p, e in result.winners] == [
        (r["prize_id"], r["entry_id"]) for r in drawn["results"]
    ]
    assert drawn["results"][0]["entry_id"] in publication["entries"]
    assert Draw.objects.get(pk=created["id"]).min_points == 6


def test_min_points_zero_lets_every_submitter_in(community, admin, make_member, soon):
    _admin_m, admin_c = admin
    quiz = _quiz(community)
    for right in ({"a"}, set()):
        _play(make_member()[1], quiz, right)
    make_member()[1].post(f"/api/v1/surveys/{quiz.id}/quiz/start", {}, format="json")  # no submit
    created = create_draw(admin_c, community, soon, source="quiz_scorers", source_id=quiz.id)
    assert created["min_points"] == 0
    assert admin_c.post(f"/api/v1/draws/{created['id']}/draw").json()["entry_count"] == 2


def test_a_survey_that_is_not_a_quiz_is_refused(community, admin, soon):
    _m, client = admin
    plain = make_survey(community, basic_questions())
    response = client.post(
        f"/api/v1/communities/{community.pk}/draws",
        _body(soon, source="quiz_scorers", source_id=plain.pk, min_points=1),
        format="json",
    )
    assert response.status_code == 400
    assert _codes(response) == ["survey_not_a_quiz"]
    assert response.json()["errors"][0]["attr"] == "source_id"
    assert Draw.objects.count() == 0 and DrawRound.objects.count() == 0


@pytest.mark.parametrize(
    "change",
    [
        {"min_points": -1},
        {"min_points": "many"},
        {"min_points": 1.5},
        {"min_points": None},
        {"min_points": 10**9},
        {"min_points": 3, "source": "members"},  # a bar only a quiz-fed draw takes
        {"source": "quiz_scorers"},  # which quiz?
        {"source": "quiz_scorers", "source_id": "nope"},
        {"source": "quiz_scorers", "source_id": "OTHER"},  # another community's quiz
    ],
)
def test_bad_min_points_and_sources_refused(community, admin, soon, change):
    _m, client = admin
    other = _quiz(CommunityFactory())
    if change.get("source_id") == "OTHER":
        change = {**change, "source_id": other.pk}
    response = client.post(
        f"/api/v1/communities/{community.pk}/draws", _body(soon, **change), format="json"
    )
    assert response.status_code == 400, response.json()
    codes = _codes(response)
    assert codes
    if change.get("source_id") == other.pk:
        assert codes == ["source_not_found"]  # as the other sources: not told it exists
    if change.get("source") == "members":
        assert codes == ["min_points_not_expected"]
    assert Draw.objects.count() == 0 and DrawRound.objects.count() == 0


def test_database_refuses_min_points_on_another_source(community, admin, soon):
    admin_m, _c = admin
    with pytest.raises(IntegrityError), transaction.atomic():
        Draw.objects.create(
            community=community,
            organizer=admin_m.user,
            title="x",
            source="members",
            min_points=5,
            closes_at=timezone.now() + timedelta(hours=1),
        )


def test_admin_form_creates_a_quiz_fed_draw(community, make_member):
    quiz = _quiz(community)
    _play(make_member()[1], quiz, {"a", "b", "c"})
    _play(make_member()[1], quiz, {"a"})
    client = staff(community, "admin")
    fields = {"source": "quiz_scorers", "source_id": quiz.pk, "min_points": "8"}
    response = client.post("/admin/games/draw/add/", form(community, **fields))
    assert response.status_code == 302, response.content.decode()[:3000]
    draw = Draw.objects.get()
    assert (draw.source, draw.source_id, draw.min_points) == ("quiz_scorers", quiz.pk, 8)
    client.post("/admin/games/draw/", {"action": "draw_now", "_selected_action": [draw.pk]})
    assert Draw.objects.get().entry_count == 1
    # a bar on another source is a form error, nothing stored
    refused = client.post("/admin/games/draw/add/", form(community, min_points="3"))
    assert refused.status_code == 200 and Draw.objects.count() == 1
