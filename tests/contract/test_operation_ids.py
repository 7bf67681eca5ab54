"""Operation ids name the intent (``castBallot``): generated clients use them as method names."""

from __future__ import annotations

import re

import pytest

from tests.contract.schema import load_schema

LOWER_CAMEL = re.compile(r"^[a-z][a-z0-9]*(?:[A-Z][a-z0-9]*)*$")
# The action words drf-spectacular appends to an id it makes up from the path.
GENERATED_VERBS = {
    "get": ("retrieve", "list"),
    "post": ("create",),
    "put": ("update",),
    "patch": ("partial_update", "partialupdate"),
    "delete": ("destroy",),
}
HTTP_METHODS = {"get", "post", "put", "patch", "delete"}


def _words(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def path_and_verb_ids(path: str, method: str) -> set[str]:
    """The ids drf-spectacular would make up for this operation, without separators."""
    parts = [p for p in re.sub(r"^/api/v\d+", "", path).split("/") if p and not p.startswith("{")]
    base = _words("".join(parts))
    return {base + verb.replace("_", "") for verb in GENERATED_VERBS[method]}


def operation_id_problems(schema: dict) -> list[str]:
    problems = []
    seen: dict[str, str] = {}
    for path, item in schema["paths"].items():
        for method, op in item.items():
            if method not in HTTP_METHODS:
                continue
            where = f"{method.upper()} {path}"
            op_id = op.get("operationId")
            if not op_id:
                problems.append(f"{where}: no operationId")
                continue
            if not LOWER_CAMEL.match(op_id):
                problems.append(f"{where}: {op_id!r} is not lowerCamelCase")
            if _words(op_id) in path_and_verb_ids(path, method) or re.search(
                r"(Retrieve|PartialUpdate|Destroy|_create|_list|_update)$", op_id
            ):
                problems.append(f"{where}: {op_id!r} is made of the path and the verb")
            if op_id in seen:
                problems.append(f"{where}: {op_id!r} is also the id of {seen[op_id]}")
            seen[op_id] = where
    return problems


def test_every_operation_id_names_the_intent():
    problems = operation_id_problems(load_schema())
    assert not problems, "\n".join(problems)


def _schema(*operations: tuple[str, str, str | None]) -> dict:
    paths: dict = {}
    for path, method, op_id in operations:
        op = {"responses": {}}
        if op_id is not None:
            op["operationId"] = op_id
        paths.setdefault(path, {})[method] = op
    return {"paths": paths}


@pytest.mark.parametrize(
    ("operation", "complaint"),
    [
        (("/api/v1/polls/{poll_id}/ballot", "put", "polls_ballot_update"), "lowerCamelCase"),
        (("/api/v1/polls/{poll_id}/ballot", "put", "pollsBallotUpdate"), "path and the verb"),
        (("/api/v1/communities", "get", "communitiesList"), "path and the verb"),
        (("/api/v1/events/{id}", "get", "eventsRetrieve"), "path and the verb"),
        (("/api/v1/events/{id}", "get", None), "no operationId"),
        (("/api/v1/events/{id}", "get", "GetEvent"), "lowerCamelCase"),
    ],
)
def test_the_check_refuses_ids_that_do_not_name_the_intent(operation, complaint):
    problems = operation_id_problems(_schema(operation))
    assert problems and complaint in problems[0]


def test_the_check_refuses_a_duplicate_id():
    problems = operation_id_problems(
        _schema(("/api/v1/events", "post", "createEvent"), ("/api/v1/e", "post", "createEvent"))
    )
    assert problems and "also the id" in problems[0]


def test_the_check_accepts_intent_ids_of_new_endpoints():
    schema = _schema(
        ("/api/v1/events/{event_id}/registration", "put", "signUpForEvent"),
        ("/api/v1/events/{event_id}/registration", "delete", "cancelRegistration"),
        ("/api/v1/roles/{role_id}/boards", "get", "listRoleBoards"),
        ("/api/v1/polls/{poll_id}/ballot", "put", "castBallot"),
    )
    assert operation_id_problems(schema) == []
