"""Poll results and ballots carry their ``kind``: one schema per kind, told apart by a
discriminator, so a generated client switches on it and ``{}`` is not a ballot."""

from __future__ import annotations

from tests.contract.schema import load_schema


def _walk(node):
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def _is_object(branch: dict, schemas: dict) -> bool:
    if "$ref" in branch:
        branch = schemas[branch["$ref"].rsplit("/", 1)[-1]]
    return branch.get("type") == "object" or "properties" in branch or "oneOf" in branch


def test_every_one_of_objects_has_a_discriminator():
    """(A ``oneOf`` of scalars, e.g. an enum or null, has nothing to discriminate on.)"""
    schema = load_schema()
    schemas = schema["components"]["schemas"]
    missing = [
        node
        for node in _walk(schema)
        if "oneOf" in node
        and "discriminator" not in node
        and any(_is_object(b, schemas) for b in node["oneOf"])
    ]
    assert not missing, missing[:3]


def test_each_ballot_schema_requires_its_kind_and_its_field():
    schemas = load_schema()["components"]["schemas"]
    ballot = schemas["BallotInRequest"]
    assert ballot["discriminator"]["propertyName"] == "kind"
    fields = {
        "single": "option_ids",
        "multiple": "option_ids",
        "ranked": "ranking",
        "score": "scores",
        "proposal": "position",
        "time": "answers",
    }
    for kind, ref in ballot["discriminator"]["mapping"].items():
        branch = schemas[ref.rsplit("/", 1)[-1]]
        # `{}` (or a ballot without its field) type-checks against no branch.
        assert {"kind", fields[kind]} <= set(branch["required"]), kind
    assert set(ballot["discriminator"]["mapping"]) == set(fields)


def test_result_schemas_are_told_apart_by_kind():
    schemas = load_schema()["components"]["schemas"]
    result = schemas["PollResult"]
    assert result["discriminator"]["propertyName"] == "kind"
    assert set(result["discriminator"]["mapping"]) == {
        "choice",
        "irv",
        "borda",
        "score",
        "proposal",
        "time",
    }
    ballot_out = schemas["PollBallotOut"]
    assert ballot_out["discriminator"]["propertyName"] == "kind"
