"""The poll form shows only what applies to the chosen kind: the fields of one kind carry the
theme's conditions on the kind, and the options' time-slot script is served from our static
files (no request leaves the machine)."""

from __future__ import annotations

import pytest
from django.contrib.staticfiles import finders
from django.test import Client

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def add_page() -> str:
    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    response = client.get("/admin/polls/poll/add/")
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.parametrize(
    ("field", "condition"),
    [
        ("ranked_method", "kind == &#x27;ranked&#x27;"),
        ("min_selections", "kind == &#x27;multiple&#x27;"),
        ("max_score", "kind == &#x27;score&#x27;"),
        ("allow_member_options", "kind != &#x27;proposal&#x27;"),
    ],
)
def test_a_kind_specific_field_shows_only_for_its_kind(add_page, field, condition):
    start = add_page.index(f'name="{field}"')
    block = add_page[add_page.rindex("x-show=", 0, start) : start]
    assert f'x-show="{condition}"' in block


def test_the_option_slot_script_is_a_local_static_file(add_page):
    assert 'src="/static/polls/admin/poll_form.js"' in add_page
    assert finders.find("polls/admin/poll_form.js")
    assert "https://" not in "".join(
        line for line in add_page.splitlines() if "<script" in line or "<link" in line
    )
