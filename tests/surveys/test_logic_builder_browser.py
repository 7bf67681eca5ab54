"""In a real headless Chromium: the survey form shows each question's fields for its type only,
and a moderator builds display conditions in the visual builder (pick an earlier question by
its text, an operator, a value; all/any) for a question and a page. The builder writes the
same JSON the server validates, the engine and the preview honour it, and a condition the
engine refuses comes back as a form error in Chinese."""

from __future__ import annotations

import pytest

from surveys.definition import definition_for
from surveys.engine import visible_page_ids, visible_question_ids
from surveys.models import SurveyStatus
from tests.browser import browser, browser_marks, close, screenshot_and_check, sign_in  # noqa: F401
from tests.factories import MembershipFactory
from tests.surveys.factories import make_survey

pytestmark = browser_marks

SUCCESS = "li > div.bg-green-100"


@pytest.fixture
def survey(community):
    return make_survey(
        community,
        [
            {
                "key": "came",
                "type": "single_choice",
                "title": "参加了吗?",
                "choices": ["参加了", "没参加"],
            },
            {"key": "score", "type": "number", "title": "打几分?"},
            {"key": "why", "type": "long_text", "title": "哪里可以更好?", "page": 1},
        ],
        pages=[{"title": "第一页"}, {"title": "第二页"}],
        status=SurveyStatus.DRAFT,
        title="周末活动反馈",
    )


@pytest.fixture
def admin_page(browser, live_server, community):  # noqa: F811
    moderator = MembershipFactory(community=community, tier="moderator")
    moderator.user.is_staff = True
    moderator.user.save()
    page = sign_in(browser, live_server, moderator.user)
    yield page
    close(page)


def _visible(page, name: str) -> bool:
    return page.locator(f"[name='{name}']").is_visible()


def test_question_fields_follow_the_question_type(admin_page, survey):
    page = admin_page.page
    admin_page.goto(f"/admin/surveys/survey/{survey.pk}/change/")
    # open the collapsed "more settings" of every question
    page.evaluate(
        "document.querySelectorAll('#questions-group details').forEach(d => d.open = true)"
    )
    assert _visible(page, "questions-0-choices_text")
    assert not _visible(page, "questions-0-min_value")
    assert _visible(page, "questions-1-min_value")
    assert not _visible(page, "questions-1-choices_text")
    assert not _visible(page, "questions-2-choices_text")
    assert _visible(page, "questions-2-max_length")
    assert not _visible(page, "questions-2-pattern")  # short text only
    # changing the type switches the fields at once
    page.select_option("[name='questions-1-type']", "rating")
    assert _visible(page, "questions-1-scale_max")
    assert not _visible(page, "questions-1-min_value")
    page.select_option("[name='questions-1-type']", "number")
    screenshot_and_check(admin_page, "survey_question_fields")


def test_moderator_builds_conditions_in_the_visual_builder(admin_page, survey):
    page = admin_page.page
    came, score, why = survey.q["came"], survey.q["score"], survey.q["why"]
    yes = survey.c["came"]["参加了"]
    admin_page.goto(f"/admin/surveys/survey/{survey.pk}/change/")

    # the JSON textareas are replaced by the builder
    assert not _visible(page, "questions-2-condition")
    builder = page.locator("[data-for='questions-2-condition']")
    builder.locator(".logic-add").click()
    first = builder.locator(".logic-rule").nth(0)
    # only earlier questions are offered, by their text
    offered = first.locator(".logic-question option").all_inner_texts()
    assert offered[1:] == ["参加了吗?", "打几分?"]
    first.locator(".logic-question").select_option(label="参加了吗?")
    assert first.locator(".logic-operator option").all_inner_texts() == ["等于", "不等于"]
    first.locator(".logic-value").select_option(label="参加了")
    builder.locator(".logic-add").click()
    second = builder.locator(".logic-rule").nth(1)
    second.locator(".logic-question").select_option(label="打几分?")
    second.locator(".logic-operator").select_option(label="大于")
    second.locator(".logic-value").fill("3")
    builder.locator(".logic-match").select_option("any")

    # the second page is shown only to those who came
    page_builder = page.locator("[data-for='pages-1-condition']")
    page_builder.locator(".logic-add").click()
    rule = page_builder.locator(".logic-rule").nth(0)
    rule.locator(".logic-question").select_option(label="参加了吗?")
    rule.locator(".logic-value").select_option(label="参加了")
    screenshot_and_check(admin_page, "survey_logic_builder")

    page.click("[name=_continue]")
    page.wait_for_selector(SUCCESS)
    why.refresh_from_db()
    assert why.condition == {
        "match": "any",
        "rules": [
            {"question_id": came.pk, "operator": "equals", "value": yes.pk},
            {"question_id": score.pk, "operator": "greater", "value": 3},
        ],
    }
    second_page = survey.pages_[1]
    second_page.refresh_from_db()
    assert second_page.condition == {
        "match": "all",
        "rules": [{"question_id": came.pk, "operator": "equals", "value": yes.pk}],
    }
    # the saved page draws the builder again from the stored JSON
    rules = page.locator("[data-for='questions-2-condition'] .logic-rule")
    assert rules.count() == 2
    assert rules.nth(1).locator(".logic-value").input_value() == "3"

    # the engine honours it
    survey.refresh_from_db()
    definition = definition_for(survey)
    no = survey.c["came"]["没参加"]
    assert why.pk in visible_question_ids(definition, {came.pk: {"choice": yes.pk}})
    assert why.pk not in visible_question_ids(definition, {came.pk: {"choice": no.pk}})
    assert visible_page_ids(definition, {came.pk: {"choice": no.pk}}) == [survey.pages_[0].pk]

    # and the preview describes it in words
    admin_page.goto(f"/admin/surveys/survey/{survey.pk}/preview/")
    assert page.get_by_text("「参加了吗?」 等于 「参加了」 或 「打几分?」 大于 「3」").count() == 1
    screenshot_and_check(admin_page, "survey_preview")


def test_a_condition_the_engine_refuses_is_a_chinese_form_error(admin_page, survey):
    """The builder writes JSON the server checks as typed JSON: "contains" on a number question
    (an operator kept from typed JSON) is refused on save, in Chinese, and nothing is stored."""
    page = admin_page.page
    admin_page.goto(f"/admin/surveys/survey/{survey.pk}/change/")
    builder = page.locator("[data-for='questions-2-condition']")
    builder.locator(".logic-json").click()
    bad = f'{{"match": "all", "rules": [{{"question_id": "{survey.q["score"].pk}", "operator": "contains", "value": 3}}]}}'
    page.fill("[name='questions-2-condition']", bad)
    page.click("[name=_continue]")
    error = page.locator(".field-condition.errors, .errors .field-condition").first
    error.wait_for()
    assert "不能用于" in page.content()
    survey.q["why"].refresh_from_db()
    assert survey.q["why"].condition is None
    screenshot_and_check(admin_page, "survey_logic_error")
