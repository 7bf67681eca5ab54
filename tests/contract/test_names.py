"""One name per idea across the API: the head count of a poll, a result or a survey is
``participant_count`` everywhere (it was ``voter_count``, ``voters``, ``ballots``, ``total``
and ``submitted``)."""

from __future__ import annotations

from tests.contract.schema import load_schema

OLD_HEAD_COUNT_NAMES = {"voter_count", "voters", "ballots", "total", "submitted"}


def test_the_head_count_has_one_name():
    schemas = load_schema()["components"]["schemas"]
    found = {
        f"{name}.{prop}"
        for name, component in schemas.items()
        for prop, field in component.get("properties", {}).items()
        # a head count is a number; a list of ballots (the published box) is no head count
        if prop in OLD_HEAD_COUNT_NAMES and field.get("type") == "integer"
    }
    assert not found, sorted(found)
    users = {
        name
        for name, component in schemas.items()
        if "participant_count" in component.get("properties", {})
    }
    assert {"PollCardOut", "PollResultsOut", "ChoiceResultOut", "ResultsOut"} <= users
