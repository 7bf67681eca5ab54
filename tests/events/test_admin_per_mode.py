"""The event form shows what applies to its mode: the sign-up form, approval and the
attendee-list switch only for a full event (a quick 接龙 list has none of them)."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("field", ["form", "requires_approval", "attendees_visible"])
def test_full_event_fields_show_only_for_a_full_event(field):
    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    page = client.get("/admin/events/event/add/").content.decode()
    start = page.index(f'name="{field}"')
    block = page[page.rindex("x-show=", 0, start) : start]
    assert 'x-show="mode == &#x27;full&#x27;"' in block
    assert "<div" in block and block.count('name="') == 0  # the condition wraps this field
