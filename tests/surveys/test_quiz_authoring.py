"""Authoring quizzes: the rules of quiz mode, the publish check of the answer key, the key
frozen once answers were scored, and the admin (Chinese labels, correct choices marked with
*, the leaderboard CSV)."""

from __future__ import annotations

import csv
import io

import pytest
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse
from django.utils import translation

from community.errors import DomainError
from surveys import services
from surveys.models import Choice, Question, QuizEntry, Survey, SurveyStatus
from surveys.services import ChoiceSpec
from tests.factories import MembershipFactory
from tests.surveys.factories import make_quiz, quiz_answers

pytestmark = pytest.mark.django_db


@pytest.fixture
def moderator(community):
    return MembershipFactory(community=community, tier="moderator")


@pytest.mark.parametrize(
    ("fields", "code", "field"),
    [
        ({"anonymous": True}, "quiz_needs_named_survey", "anonymous"),
        ({"allow_edit_after_submit": True}, "quiz_answered_once", "allow_edit_after_submit"),
        ({"allow_multiple_responses": True}, "quiz_answered_once", "allow_multiple_responses"),
        ({"quiz_time_limit": 5}, "quiz_time_limit_too_short", "quiz_time_limit"),
    ],
)
def test_quiz_settings_rules(moderator, fields, code, field):
    with pytest.raises(DomainError) as refused:
        services.survey_create(actor=moderator, title="测验", quiz_mode=True, **fields)
    assert (refused.value.code, refused.value.field) == (code, field)
    assert not Survey.objects.exists()


def test_the_database_backs_the_quiz_rules(community):
    with pytest.raises(IntegrityError), transaction.atomic():
        Survey.objects.create(community=community, title="t", quiz_mode=True, anonymous=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        Survey.objects.create(community=community, title="t", quiz_time_limit=3)


def test_publish_checks_the_answer_key(community, moderator):
    quiz = make_quiz(community, status=SurveyStatus.DRAFT)
    Choice.objects.filter(question=quiz.q["capital"]).update(is_correct=False)
    Question.objects.filter(pk=quiz.q["city"].pk).update(quiz_answer="")
    Question.objects.filter(pk=quiz.q["answer"].pk).update(quiz_answer="很多")
    Question.objects.filter(pk=quiz.q["feel"].pk).update(quiz_points=1)
    with pytest.raises(DomainError) as refused, translation.override("en"):
        services.survey_publish(actor=moderator, survey_id=quiz.id)
    assert refused.value.code == "quiz_invalid"
    message = refused.value.message
    assert "Question 1: mark its correct choice." in message
    assert "Question 3: the correct answer of a number question is a number." in message
    assert "Question 4: write its correct answer." in message
    assert "Question 5: only single choice" in message
    quiz.refresh_from_db()
    assert quiz.status == SurveyStatus.DRAFT


def test_the_key_is_frozen_once_answers_were_scored(community, moderator, member):
    quiz = make_quiz(community)
    _m, client = member
    # before any submission the key may change (and the version moves with it)
    version = quiz.version
    services.question_update(actor=moderator, question_id=quiz.q["city"].id, quiz_answer="杭州")
    quiz.refresh_from_db()
    assert quiz.version == version + 1
    assert (
        client.post(
            f"/api/v1/surveys/{quiz.id}/submit", {"answers": quiz_answers(quiz)}, format="json"
        ).status_code
        == 201
    )
    capital = quiz.c["capital"]
    for call in (
        lambda: services.question_update(
            actor=moderator, question_id=quiz.q["answer"].id, quiz_answer="43"
        ),
        lambda: services.question_update(
            actor=moderator, question_id=quiz.q["answer"].id, quiz_points=5
        ),
        lambda: services.choice_sync(
            actor=moderator,
            question_id=quiz.q["capital"].id,
            choices=[
                ChoiceSpec(capital["北京"].id, "北京", is_correct=False),
                ChoiceSpec(capital["上海"].id, "上海", is_correct=True),
            ],
        ),
        lambda: services.survey_update(actor=moderator, survey_id=quiz.id, quiz_mode=False),
    ):
        with pytest.raises(DomainError) as refused:
            call()
        assert refused.value.code == "definition_locked"
    # explanations and wording may still be fixed
    services.question_update(
        actor=moderator, question_id=quiz.q["answer"].id, quiz_explanation="因为 42.5"
    )
    assert QuizEntry.objects.get(survey=quiz).score == 7


# --- admin ----------------------------------------------------------------------------------
@pytest.fixture
def staff(moderator):
    moderator.user.is_staff = True
    moderator.user.save()
    client = Client()
    client.force_login(moderator.user)
    return client


def _management(prefix: str, total: int, initial: int = 0) -> dict:
    return {
        f"{prefix}-TOTAL_FORMS": str(total),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }


def test_admin_authors_a_quiz_with_chinese_labels(community, staff):
    with translation.override("zh-hans"):
        page = staff.get(reverse("admin:surveys_survey_add"), HTTP_ACCEPT_LANGUAGE="zh-hans")
    text = page.content.decode()
    for label in ("测验模式", "测验限时（秒）", "测验结果公布时间", "分值", "正确答案", "解析"):
        assert label in text, label
    data = {
        "community": community.pk,
        "title": "知识竞赛",
        "description": "",
        "thank_you_text": "",
        "quiz_mode": "on",
        "quiz_time_limit": "120",
        "quiz_results": "after_close",
        **_management("pages", 0),
        **_management("questions", 2),
        **_management("exports", 0),
        "questions-0-type": "single_choice",
        "questions-0-title": "首都?",
        "questions-0-choices_text": "*北京\n上海",
        "questions-0-quiz_points": "2",
        "questions-0-quiz_explanation": "北京是首都",
        "questions-0-order": "1",
        "questions-1-type": "short_text",
        "questions-1-title": "西湖在哪?",
        "questions-1-quiz_points": "1",
        "questions-1-quiz_answer": "杭州\nHangzhou",
        "questions-1-order": "2",
    }
    response = staff.post(reverse("admin:surveys_survey_add"), data)
    assert response.status_code == 302, response.context["errors"] if response.context else ""
    quiz = Survey.objects.get(title="知识竞赛")
    assert (quiz.quiz_mode, quiz.quiz_time_limit, quiz.quiz_results) == (
        True,
        120,
        "after_close",
    )
    first, second = quiz.questions.order_by("order")
    assert [(c.label, c.is_correct) for c in first.choices.order_by("order")] == [
        ("北京", True),
        ("上海", False),
    ]
    assert (first.quiz_points, first.quiz_explanation) == (2, "北京是首都")
    assert (second.quiz_points, second.quiz_answer) == (1, "杭州\nHangzhou")
    # the change form shows the mark back
    change = staff.get(reverse("admin:surveys_survey_change", args=[quiz.pk])).content.decode()
    assert "*北京" in change
    # an anonymous quiz is refused on the form
    data["title"] = "匿名竞赛"
    data["anonymous"] = "on"
    refused = staff.post(reverse("admin:surveys_survey_add"), data)
    assert refused.status_code == 200 and not Survey.objects.filter(title="匿名竞赛").exists()


def test_admin_leaderboard_csv(community, staff, make_member):
    quiz = make_quiz(community)
    first = make_member()
    second = make_member()
    first[1].post(
        f"/api/v1/surveys/{quiz.id}/submit", {"answers": quiz_answers(quiz)}, format="json"
    )
    second[1].post(
        f"/api/v1/surveys/{quiz.id}/submit",
        {"answers": quiz_answers(quiz, capital="上海")},
        format="json",
    )
    changelist = staff.get(reverse("admin:surveys_survey_changelist")).content.decode()
    url = reverse("admin:surveys_survey_leaderboard", args=[quiz.pk])
    assert url in changelist
    response = staff.get(url)
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [row[:5] for row in rows[1:]] == [
        ["1", first[0].user.nickname, first[0].pk, "7", "7"],
        ["2", second[0].user.nickname, second[0].pk, "5", "7"],
    ]
    # another community's moderator gets nothing
    outsider = MembershipFactory(tier="moderator")
    outsider.user.is_staff = True
    outsider.user.save()
    other = Client()
    other.force_login(outsider.user)
    assert other.get(url).status_code in (302, 404)
