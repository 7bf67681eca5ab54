"""In a real headless Chromium, a moderator creates a full event with a registration form
through the admin: the form field shows for a full event only, the event is stored with the
form (checked by the survey engine), its texts pass WeChat's content check (the local fake
server) and the page is kept as ``test-output/screenshots/event_with_form*.png``, in Chinese,
with no request off the machine."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest

from events.models import Event
from tests.browser import browser, browser_marks, close, screenshot_and_check, sign_in  # noqa: F401
from tests.factories import MembershipFactory

pytestmark = browser_marks

SUCCESS = "li > div.bg-green-100"
FORM = {
    "questions": [
        {
            "id": "size",
            "type": "single_choice",
            "title": "T恤尺码",
            "required": True,
            "choices": [{"id": "m", "label": "M"}, {"id": "l", "label": "L"}],
        },
        {"id": "diet", "type": "short_text", "title": "饮食禁忌"},
    ]
}


@pytest.fixture
def admin_page(browser, live_server, community, wechat_server, settings):  # noqa: F811
    settings.WECHAT_CONTENT_CHECK = True  # the events tests switch it off; here it runs
    wechat_server.expect_request("/wxa/msg_sec_check", method="POST").respond_with_json(
        {"errcode": 0, "errmsg": "ok", "result": {"suggest": "pass", "label": 100}}
    )
    moderator = MembershipFactory(community=community, tier="moderator")
    moderator.user.is_staff = True
    moderator.user.save()
    page = sign_in(browser, live_server, moderator.user)
    yield page
    close(page)


def test_moderator_creates_an_event_with_a_registration_form(admin_page, community, wechat_server):
    page = admin_page.page
    admin_page.goto("/admin/events/event/add/")
    page.select_option("#id_community", community.pk)
    page.select_option("#id_mode", "quick")
    assert not page.locator("[name=form]").is_visible()  # a 接龙 has no form
    page.select_option("#id_mode", "full")
    page.fill("#id_title", "周六徒步")
    day = (datetime.now() + timedelta(days=10)).strftime("%Y-%m-%d")
    page.fill("[name=starts_at_0]", day)
    page.fill("[name=starts_at_1]", "08:30")
    page.fill("[name=capacity]", "20")
    page.fill("[name=form]", json.dumps(FORM, ensure_ascii=False))
    screenshot_and_check(admin_page, "event_with_form")
    page.click("[name=_continue]")
    page.wait_for_selector(SUCCESS)
    screenshot_and_check(admin_page, "event_with_form_saved")

    event = Event.objects.get(title="周六徒步")
    assert (event.mode, event.capacity) == ("full", 20)
    assert event.form == FORM
    assert any(r.path == "/wxa/msg_sec_check" for r, _response in wechat_server.log)
