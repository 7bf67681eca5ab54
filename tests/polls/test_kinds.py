"""Results and ballots say their ``kind`` (the discriminator of their per-kind schema)."""

from __future__ import annotations

import pytest

from tests.polls.conftest import option_ids

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("kind", "settings", "body", "result_kind", "alternative_kind"),
    [
        ("single", {}, lambda o: {"option_ids": [o[0]]}, "choice", None),
        ("multiple", {}, lambda o: {"option_ids": o[:2]}, "choice", None),
        ("ranked", {}, lambda o: {"ranking": o}, "irv", "borda"),
        ("ranked", {"ranked_method": "borda"}, lambda o: {"ranking": o}, "borda", "irv"),
        ("score", {}, lambda o: {"scores": {o[0]: 4}}, "score", None),
        ("proposal", {}, lambda o: {"position": "agree"}, "proposal", None),
        ("time", {}, lambda o: {"answers": {o[0]: "yes"}}, "time", None),
    ],
)
def test_results_and_ballots_say_their_kind(
    make_poll, member, kind, settings, body, result_kind, alternative_kind
):
    poll = make_poll(kind, **settings)
    _membership, client = member
    ballot = {"kind": kind, **body(option_ids(poll))}
    cast = client.put(f"/api/v1/polls/{poll.pk}/ballot", ballot, format="json")
    assert cast.status_code == 200, cast.json()
    assert cast.json()["kind"] == kind
    assert client.get(f"/api/v1/polls/{poll.pk}/ballot").json()["kind"] == kind
    results = client.get(f"/api/v1/polls/{poll.pk}/results").json()
    assert results["result"]["kind"] == result_kind
    assert (results["alternative"] or {}).get("kind") == alternative_kind


def test_a_ballot_of_another_kind_is_refused_naming_kind(make_poll, member):
    poll = make_poll("single")
    _membership, client = member
    response = client.put(
        f"/api/v1/polls/{poll.pk}/ballot",
        {"kind": "multiple", "option_ids": option_ids(poll)[:1]},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "kind"
    assert response.json()["errors"][0]["code"] == "wrong_ballot_shape"


def test_a_ballot_without_kind_is_still_accepted(make_poll, member):
    """Compatibility with clients written before the per-kind schemas."""
    poll = make_poll("single")
    _membership, client = member
    response = client.put(
        f"/api/v1/polls/{poll.pk}/ballot", {"option_ids": option_ids(poll)[:1]}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["option_ids"] == option_ids(poll)[:1]
