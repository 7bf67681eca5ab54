"""End to end in a real headless Chromium: a moderator builds a survey with logic in the admin,
publishes it, and a member finds it through the API."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from django.db import connections

from surveys.models import Survey, SurveyStatus
from tests.conftest import client_for
from tests.factories import MembershipFactory

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(),
        reason=f"{CHROMIUM} is missing (apt-get install chromium; .ci/run installs it)",
    ),
]


@pytest.fixture
def page(live_server, monkeypatch):
    # Playwright's sync API runs an event loop in this thread; Django's ORM calls in the test
    # body are still synchronous and safe here.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        context = browser.new_context(locale="en-US", extra_http_headers={"Accept-Language": "en"})
        page = context.new_page()
        page.set_default_timeout(15000)
        try:
            yield page
        finally:
            context.close()
            browser.close()
            # While Playwright's loop runs, Django hands this code a context-local DB
            # connection; close it, or it keeps the test database open at teardown.
            connections.close_all()


def _fill_question(page, index: int, *, type_: str, title: str, choices: str = "") -> None:
    page.select_option(f"#id_questions-{index}-type", type_)
    page.fill(f"#id_questions-{index}-title", title)
    if choices:
        page.fill(f"#id_questions-{index}-choices_text", choices)


#: The success message of the admin theme (django-unfold draws it green; it has no semantic class).
SUCCESS = "li > div.bg-green-100"


def test_moderator_builds_and_publishes_survey(page, live_server, community):
    moderator = MembershipFactory(community=community, tier="moderator")
    moderator.user.is_staff = True
    moderator.user.set_password("s3cret-pass")
    moderator.user.save()
    base = live_server.url

    # log in
    page.goto(f"{base}/admin/login/")
    page.fill("#id_username", moderator.user.username)
    page.fill("#id_password", "s3cret-pass")
    page.click("[type=submit]")
    page.wait_for_url(re.compile(r".*/admin/$"))

    # build a three-question survey
    page.goto(f"{base}/admin/surveys/survey/add/")
    page.select_option("#id_community", community.pk)
    page.fill("#id_title", "周末活动反馈")
    add_question = page.locator("#questions-group .add-row a")
    for _ in range(3):
        add_question.click()
    _fill_question(page, 0, type_="single_choice", title="参加了吗?", choices="参加了\n没参加")
    _fill_question(page, 1, type_="rating", title="打个分")
    _fill_question(page, 2, type_="long_text", title="哪里可以更好?")
    page.click("[name=_continue]")
    page.wait_for_selector(SUCCESS)
    survey = Survey.objects.get(title="周末活动反馈")
    assert survey.questions.count() == 3

    # the preview lists the ids the logic refers to
    page.goto(f"{base}/admin/surveys/survey/{survey.pk}/preview/")
    first = survey.questions.order_by("order").first()
    yes_id = first.choices.get(label="参加了").id
    assert page.locator(f"[data-question='{first.id}']").is_visible()
    assert page.locator(f"code:text-is('{yes_id}')").count() == 1

    # one display condition: ask "what could be better" only to those who came
    page.goto(f"{base}/admin/surveys/survey/{survey.pk}/change/")
    condition = {
        "match": "all",
        "rules": [{"question_id": first.id, "operator": "equals", "value": yes_id}],
    }
    # typed as JSON (the builder's "show JSON"; tests/surveys/test_logic_builder_browser.py
    # drives the builder itself)
    page.click("[data-for='questions-2-condition'] .logic-json")
    page.fill("#id_questions-2-condition", json.dumps(condition))
    page.click("[name=_continue]")
    page.wait_for_selector(SUCCESS)
    third = survey.questions.order_by("order").last()
    assert third.condition == condition

    # publish through the action (validates the logic first)
    page.goto(f"{base}/admin/surveys/survey/")
    page.check(f"input[name=_selected_action][value='{survey.pk}']")
    page.select_option("select[name=action]", "publish")
    page.click("button[name=index]")
    page.wait_for_selector(SUCCESS)
    survey.refresh_from_db()
    assert survey.status == SurveyStatus.PUBLISHED

    # a member finds it through the API
    member = MembershipFactory(community=community)
    body = client_for(member.user).get(f"/api/v1/communities/{community.pk}/surveys").json()
    assert [(s["title"], s["my_status"]) for s in body["results"]] == [
        ("周末活动反馈", "not_started")
    ]
    detail = client_for(member.user).get(f"/api/v1/surveys/{survey.pk}").json()
    assert detail["questions"][2]["condition"] == condition
