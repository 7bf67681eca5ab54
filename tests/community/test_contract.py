"""The OpenAPI contract: committed, current, valid, complete."""

from __future__ import annotations

from pathlib import Path

import pytest
from openapi_spec_validator import validate

from tests.contract.schema import load_yaml

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def generated(generated_openapi) -> str:
    return generated_openapi


@pytest.fixture(scope="module")
def generated_schema(generated) -> dict:
    return load_yaml(generated)


def test_committed_schema_is_current(generated):
    committed = (ROOT / "openapi.yaml").read_text()
    assert committed == generated, (
        "openapi.yaml is stale: run `DJANGO_SETTINGS_MODULE=tests.settings .venv/bin/python "
        "manage.py spectacular --lang zh-hans --file openapi.yaml`"
    )


def test_schema_is_valid_openapi(generated_schema):
    validate(generated_schema)


def test_every_operation_is_documented(generated_schema):
    schema = generated_schema
    problems = []
    for path, item in schema["paths"].items():
        for method, op in item.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            where = f"{method.upper()} {path}"
            if not op.get("summary"):
                problems.append(f"{where}: no summary")
            if not op.get("tags"):
                problems.append(f"{where}: no tags")
            codes = set(op["responses"])
            if not any(code.startswith("2") for code in codes):
                problems.append(f"{where}: no success response")
            if not any(code.startswith("4") for code in codes):
                problems.append(f"{where}: no error response")
            if method in {"post", "put", "patch"} and "requestBody" in op:
                content = op["requestBody"]["content"]
                if "application/json" not in content:
                    problems.append(f"{where}: request body is not JSON")
    assert not problems, "\n".join(problems)


def test_bearer_auth_scheme_is_declared(generated_schema):
    schema = generated_schema
    assert schema["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"


def test_session_key_is_never_a_field_of_the_contract(generated_schema):
    schema = generated_schema
    fields = {
        name
        for component in schema["components"]["schemas"].values()
        for name in component.get("properties", {})
    }
    assert "session_key" not in fields
    assert "openid" not in fields


@pytest.mark.django_db
def test_docs_are_staff_only_in_production(api_client, member):
    from django.test import Client

    from tests.factories import UserFactory

    _membership, member_client = member
    assert api_client.get("/api/schema/").status_code in {401, 403}
    assert member_client.get("/api/schema/").status_code == 403
    staff = Client()
    staff.force_login(UserFactory(is_staff=True))
    assert staff.get("/api/schema/").status_code == 200
    assert staff.get("/api/docs/").status_code == 200
    assert staff.get("/api/redoc/").status_code == 200


@pytest.mark.django_db
def test_docs_are_open_in_development(api_client, settings):
    settings.DEBUG = True
    assert api_client.get("/api/schema/").status_code == 200
