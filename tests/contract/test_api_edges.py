"""Every answer under /api/ is JSON in the error shape; the addresses around the API answer."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _error(response) -> dict:
    assert response["Content-Type"].startswith("application/json"), response.content[:200]
    body = response.json()
    assert set(body) == {"type", "errors"}
    return body["errors"][0]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/v1/nope"),
        ("get", "/api/v1/me/"),  # trailing-slash variant of a real operation
        ("put", "/api/v1/polls/abc/ballot/"),
        ("post", "/api/v1/communities/join/invite/"),
        ("delete", "/api/v2/polls/abc"),
        ("get", "/api/"),
        ("get", "/api"),
    ],
)
def test_unknown_api_paths_answer_json_not_found(api_client, method, path):
    response = getattr(api_client, method)(path)
    assert response.status_code == 404
    error = _error(response)
    assert error["code"] == "not_found"
    assert "API" in error["detail"] and "斜杠" in error["detail"]  # zh-hans by default


def test_unknown_api_path_in_english(api_client):
    response = api_client.get("/api/v1/nope", HTTP_ACCEPT_LANGUAGE="en")
    assert "trailing slash" in _error(response)["detail"]


def test_a_form_encoded_body_answers_415_in_the_error_shape(api_client):
    response = api_client.post(
        "/api/v1/auth/wechat", "code=abc", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 415
    assert _error(response)["code"] == "unsupported_media_type"


def test_415_is_documented_for_every_operation_with_a_body():
    from tests.contract.schema import load_schema

    schema = load_schema()
    missing = [
        f"{method.upper()} {path}"
        for path, item in schema["paths"].items()
        for method, op in item.items()
        if "requestBody" in op and "415" not in op["responses"]
    ]
    assert not missing, missing


@pytest.mark.parametrize("language", ["zh-hans", "zh-CN", "zh"])
def test_the_json_parse_error_is_chinese_in_chinese_mode(api_client, language):
    response = api_client.post(
        "/api/v1/auth/wechat",
        "{bad",
        content_type="application/json",
        HTTP_ACCEPT_LANGUAGE=language,
    )
    assert response.status_code == 400
    error = _error(response)
    assert error["code"] == "parse_error"
    assert "JSON" in error["detail"] and "请求" in error["detail"]


def test_the_api_index_links_to_operations_that_exist(api_client):
    response = api_client.get("/api/v1/")
    assert response.status_code == 200
    body = response.json()
    assert body["resources"]
    for link in body["resources"]:
        path = re.sub(r"^https?://[^/]+", "", link["href"])
        answer = api_client.get(path)
        # An existing operation answers 401 (no token), 405 (POST only) or 200: never the 404
        # of an unknown address.
        assert answer.status_code in {200, 401, 405}, (link, answer.status_code)


def test_the_site_root_redirects_to_the_docs_in_development(api_client, settings):
    settings.DEBUG = True
    response = api_client.get("/")
    assert response.status_code == 302
    assert response["Location"] == "/api/docs/"


def test_the_site_root_is_a_status_page_in_production(api_client):
    response = api_client.get("/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert "/api/v1/" in response.content.decode()


def test_favicon_answers_an_icon(api_client):
    response = api_client.get("/favicon.ico")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/x-icon"
    assert b"".join(response.streaming_content)[:4] == b"\x00\x00\x01\x00"


@pytest.mark.parametrize("path", ["/api/docs/", "/api/redoc/"])
def test_the_docs_load_nothing_from_outside_the_server(path):
    staff = Client()
    staff.force_login(UserFactory(is_staff=True))
    page = staff.get(path).content.decode()
    outside = re.findall(r"""https?://[^\s"'<>)]+""", page)
    assert not [u for u in outside if not u.startswith("http://testserver/")], outside
    for src in re.findall(r"""(?:src|href)=["']([^"']+)""", page):
        assert src.startswith("/") or src.startswith("http://testserver/"), src
    if path == "/api/docs/":
        assert '"validatorUrl": null' in page  # no badge fetched from validator.swagger.io
