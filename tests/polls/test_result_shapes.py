"""Every kind's results payload has exactly the shape the contract documents."""

from __future__ import annotations

import pytest
from django.utils import translation

from polls import counting
from polls import result_serializers as shapes
from polls.results import TIE_BREAK_RULE
from tests.polls.conftest import option_ids, vote

pytestmark = pytest.mark.django_db


def _assert_shape(payload: dict, serializer_class) -> None:
    serializer = serializer_class(data=payload)
    assert serializer.is_valid(), serializer.errors
    assert set(payload) == set(serializer_class().fields)


@pytest.mark.parametrize(
    ("kind", "settings", "body", "shape", "alternative"),
    [
        ("single", {}, lambda o: {"option_ids": [o[0]]}, shapes.ChoiceResultOut, None),
        ("multiple", {}, lambda o: {"option_ids": o[:2]}, shapes.ChoiceResultOut, None),
        ("ranked", {}, lambda o: {"ranking": o}, shapes.RunoffResultOut, shapes.BordaResultOut),
        (
            "ranked",
            {"ranked_method": "borda"},
            lambda o: {"ranking": o},
            shapes.BordaResultOut,
            shapes.RunoffResultOut,
        ),
        (
            "score",
            {},
            lambda o: {"scores": {o[0]: 4, o[1]: 2}},
            shapes.ScoreResultOut,
            None,
        ),
        ("proposal", {}, lambda o: {"position": "agree"}, shapes.ProposalResultOut, None),
        (
            "time",
            {},
            lambda o: {"answers": {o[0]: "yes", o[1]: "if_need_be"}},
            shapes.TimePollResultOut,
            None,
        ),
    ],
)
def test_results_match_the_documented_shape(
    make_poll, member, kind, settings, body, shape, alternative
):
    poll = make_poll(kind, **settings)
    _membership, client = member
    vote(client, poll, body(option_ids(poll)))
    results = client.get(f"/api/v1/polls/{poll.pk}/results").json()
    assert results["visible"] is True
    _assert_shape(results["result"], shape)
    if alternative is None:
        assert results["alternative"] is None
    else:
        _assert_shape(results["alternative"], alternative)


def test_tie_break_rule_is_translated(make_poll, member):
    with translation.override("en"):
        assert str(TIE_BREAK_RULE) == counting.TIE_BREAK_RULE
    poll = make_poll("ranked")
    _membership, client = member
    vote(client, poll, {"ranking": option_ids(poll)})
    zh = client.get(f"/api/v1/polls/{poll.pk}/results").json()["result"]["tie_break_rule"]
    en = client.get(f"/api/v1/polls/{poll.pk}/results", HTTP_ACCEPT_LANGUAGE="en").json()
    assert zh != counting.TIE_BREAK_RULE and "淘汰" in zh
    assert en["result"]["tie_break_rule"] == counting.TIE_BREAK_RULE
