"""What the survey form's script gets from the server: the saved questions in display order
with their choices, the operators the engine allows per type with their Chinese labels, the
builder's texts in Chinese and the per-type field table; the script and its style are local
static files, and without the script the condition is still a JSON textarea."""

from __future__ import annotations

import json
import re

import pytest
from django.contrib.staticfiles import finders
from django.test import Client

from surveys.forms import QuestionInlineForm
from surveys.logic_builder import QUESTION_TYPE_FIELDS
from surveys.models import SurveyStatus
from tests.factories import MembershipFactory
from tests.surveys.factories import make_survey

pytestmark = pytest.mark.django_db


def _form_data(html: str) -> dict:
    match = re.search(r'<script id="survey-form-data" type="application/json">(.*?)</script>', html)
    assert match, "no survey-form-data script"
    return json.loads(match.group(1))


@pytest.fixture
def staff_client(community):
    moderator = MembershipFactory(community=community, tier="moderator")
    moderator.user.is_staff = True
    moderator.user.save()
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(moderator.user)
    return client


def test_the_change_page_carries_the_questions_and_operators(staff_client, community):
    survey = make_survey(
        community,
        [
            {"key": "a", "type": "single_choice", "title": "去过吗", "choices": ["去过", "没去过"]},
            {"key": "b", "type": "number", "title": "几次"},
            {"key": "c", "type": "matrix", "title": "评价", "rows": ["路线"]},
        ],
        status=SurveyStatus.DRAFT,
    )
    html = staff_client.get(f"/admin/surveys/survey/{survey.pk}/change/").content.decode()
    data = _form_data(html)
    assert [(q["id"], q["title"], q["type"]) for q in data["questions"]] == [
        (survey.q["a"].pk, "去过吗", "single_choice"),
        (survey.q["b"].pk, "几次", "number"),
        (survey.q["c"].pk, "评价", "matrix"),
    ]
    assert [c["label"] for c in data["questions"][0]["choices"]] == ["去过", "没去过"]
    assert data["questions"][2]["choices"] == []  # matrix rows are not choices
    assert data["operators"]["single_choice"] == ["equals", "not_equals"]
    assert data["operators"]["number"] == ["equals", "not_equals", "greater", "less"]
    assert data["operators"]["matrix"] == []
    assert data["operator_labels"]["greater"] == "大于"
    assert data["texts"]["add_rule"] == "添加规则"
    # the condition stays a textarea the script draws over
    assert 'data-condition-builder="1"' in html
    assert 'src="/static/surveys/admin/survey_form.js"' in html
    assert finders.find("surveys/admin/survey_form.js")
    assert finders.find("surveys/admin/survey_form.css")


def test_the_add_page_offers_no_question_yet(staff_client):
    data = _form_data(staff_client.get("/admin/surveys/survey/add/").content.decode())
    assert data["questions"] == [] and data["pages"] == []


def test_every_type_specific_field_is_a_field_of_the_question_form():
    assert set(QUESTION_TYPE_FIELDS) <= set(QuestionInlineForm.base_fields)
