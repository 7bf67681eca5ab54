"""The moderators' admin: scoping, authoring with inlines and logic, actions, report, exports."""

from __future__ import annotations

import csv
import io
import json

import openpyxl
import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from surveys import services
from surveys.models import Choice, Export, Question, Survey, SurveyStatus
from tests.factories import CommunityFactory, MembershipFactory
from tests.surveys.factories import basic_questions, make_survey, with_condition

pytestmark = pytest.mark.django_db


@pytest.fixture
def moderator(community):
    membership = MembershipFactory(community=community, tier="moderator")
    membership.user.is_staff = True
    membership.user.save()
    client = Client()
    client.force_login(membership.user)
    return membership, client


@pytest.fixture
def media(settings, tmp_path):
    """Separate, empty MEDIA_ROOT and EXPORT_ROOT (export files must land in the latter)."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.EXPORT_ROOT = tmp_path / "exports"
    return tmp_path


def _submit(community, survey, answers):
    membership = MembershipFactory(community=community)
    return services.response_submit(membership=membership, survey=survey, answers=answers)


# --- scoping --------------------------------------------------------------------------------
def test_moderator_sees_only_own_communities(community, moderator):
    _m, client = moderator
    mine = make_survey(community, basic_questions(), title="我的问卷")
    other = make_survey(CommunityFactory(), basic_questions(), title="别人的问卷")
    page = client.get(reverse("admin:surveys_survey_changelist")).content.decode()
    assert "我的问卷" in page and "别人的问卷" not in page
    for name in ("surveys_survey_change", "surveys_survey_preview", "surveys_survey_report"):
        assert client.get(reverse(f"admin:{name}", args=[mine.pk])).status_code == 200
        assert client.get(reverse(f"admin:{name}", args=[other.pk])).status_code in (302, 404)


def test_plain_member_has_no_admin(community):
    membership = MembershipFactory(community=community)
    membership.user.is_staff = True
    membership.user.save()
    client = Client()
    client.force_login(membership.user)
    assert client.get(reverse("admin:surveys_survey_changelist")).status_code == 403


# --- authoring ------------------------------------------------------------------------------
def _management(prefix: str, total: int, initial: int = 0) -> dict:
    return {
        f"{prefix}-TOTAL_FORMS": str(total),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }


def _question(prefix, i, **fields):
    data = {f"{prefix}-{i}-{k}": v for k, v in fields.items()}
    data.setdefault(f"{prefix}-{i}-order", str(i + 1))
    return data


def test_create_survey_with_inline_questions_and_choices(community, moderator):
    _m, client = moderator
    data = {
        "community": community.pk,
        "title": "活动反馈",
        "description": "",
        "thank_you_text": "谢谢",
        **_management("pages", 0),
        **_management("questions", 2),
        **_management("exports", 0),
        **_question(
            "questions", 0, type="single_choice", title="满意吗", choices_text="满意\n不满意\n+其他"
        ),
        **_question("questions", 1, type="nps", title="推荐吗", required="on"),
    }
    response = client.post(reverse("admin:surveys_survey_add"), data)
    assert response.status_code == 302, response.context["errors"] if response.context else ""
    survey = Survey.objects.get(title="活动反馈")
    assert survey.community == community and survey.status == SurveyStatus.DRAFT
    q1, q2 = survey.questions.order_by("order")
    assert [(c.label, c.is_other) for c in q1.choices.all()] == [
        ("满意", False),
        ("不满意", False),
        ("其他", True),
    ]
    assert q2.type == "nps" and q2.required

    # edit: rename nothing, reorder lines, add a condition on q2 -> ids of kept choices stay
    kept = {c.label: c.id for c in q1.choices.all()}
    cond = json.dumps(
        {
            "match": "all",
            "rules": [{"question_id": q1.id, "operator": "equals", "value": kept["满意"]}],
        }
    )
    data.update(_management("questions", 2, initial=2))
    data.update(
        {
            "questions-0-id": q1.id,
            "questions-1-id": q2.id,
            "questions-0-survey": survey.pk,
            "questions-1-survey": survey.pk,
        }
    )
    data["questions-0-choices_text"] = "不满意\n满意\n+其他"
    data["questions-1-condition"] = cond
    response = client.post(reverse("admin:surveys_survey_change", args=[survey.pk]), data)
    assert response.status_code == 302
    assert [c.label for c in q1.choices.all()] == ["不满意", "满意", "其他"]
    assert {c.label: c.id for c in q1.choices.all()} == kept
    q2.refresh_from_db()
    assert q2.condition["rules"][0]["value"] == kept["满意"]


def test_forward_reference_rejected_on_save(community, moderator):
    _m, client = moderator
    survey = make_survey(community, basic_questions(), status=SurveyStatus.DRAFT)
    q1, q2, q3 = (survey.q[k] for k in ("q1", "q2", "q3"))
    data = {
        "title": survey.title,
        "description": "",
        "thank_you_text": "",
        **_management("pages", 0),
        **_management("questions", 3, initial=3),
        **_management("exports", 0),
    }
    for i, q in enumerate((q1, q2, q3)):
        data.update(
            _question(
                "questions",
                i,
                id=q.id,
                survey=survey.pk,
                type=q.type,
                title=q.title,
                required="on",
                choices_text="Yes\nNo" if i == 0 else "",
            )
        )
    data["questions-0-condition"] = json.dumps(
        {"rules": [{"question_id": q2.id, "operator": "greater", "value": 2}]}
    )
    response = client.post(reverse("admin:surveys_survey_change", args=[survey.pk]), data)
    assert response.status_code == 200  # form redisplayed with the error
    assert "condition" in str(response.context["inline_admin_formsets"][1].formset.errors)
    q1.refresh_from_db()
    assert q1.condition is None


def test_page_condition_on_its_own_page_rejected_on_save(community, moderator):
    """A page shown only for an answer given on that same page is a cycle: refused when the
    survey is saved (not only at publish), and nothing is stored."""
    _m, client = moderator
    survey = make_survey(
        community,
        [
            {"type": "single_choice", "title": "来过吗", "choices": ["来过", "没来过"], "page": 0},
            {"type": "long_text", "title": "感想", "page": 1},
        ],
        pages=[{"title": "第一页"}, {"title": "第二页"}],
        status=SurveyStatus.DRAFT,
    )
    first, second = survey.pages_
    q1, q2 = survey.q["q1"], survey.q["q2"]
    data = {
        "title": survey.title,
        "description": "",
        "thank_you_text": "",
        **_management("pages", 2, initial=2),
        **_management("questions", 2, initial=2),
        **_management("exports", 0),
    }
    for i, page in enumerate((first, second)):
        data.update(
            _question("pages", i, id=page.id, survey=survey.pk, title=page.title, description="")
        )
    for i, (q, page) in enumerate(((q1, first), (q2, second))):
        data.update(
            _question(
                "questions",
                i,
                id=q.id,
                survey=survey.pk,
                type=q.type,
                title=q.title,
                page=page.id,
                choices_text="来过\n没来过" if i == 0 else "",
            )
        )
    rule = {"question_id": q1.id, "operator": "equals", "value": survey.c["q1"]["来过"].id}
    data["pages-0-condition"] = json.dumps({"rules": [rule]})  # page 1 depends on itself
    response = client.post(reverse("admin:surveys_survey_change", args=[survey.pk]), data)
    assert response.status_code == 200
    assert "condition" in str(response.context["inline_admin_formsets"][0].formset.errors)
    first.refresh_from_db()
    assert first.condition is None

    data["pages-0-condition"] = ""
    data["pages-1-condition"] = json.dumps({"rules": [rule]})  # page 2 after page 1: fine
    response = client.post(reverse("admin:surveys_survey_change", args=[survey.pk]), data)
    assert response.status_code == 302
    second.refresh_from_db()
    assert second.condition["rules"][0]["question_id"] == q1.id


def test_publish_action_checks_definition(community, moderator):
    _m, client = moderator
    broken = make_survey(
        community,
        [{"type": "single_choice", "title": "没有选项"}],
        title="坏问卷",
        status=SurveyStatus.DRAFT,
    )
    good = with_condition(
        make_survey(community, basic_questions(), title="好问卷", status=SurveyStatus.DRAFT)
    )
    response = client.post(
        reverse("admin:surveys_survey_changelist"),
        {"action": "publish", "_selected_action": [broken.pk, good.pk]},
        follow=True,
    )
    text = [str(m) for m in response.context["messages"]]
    assert any("坏问卷" in m and "没有选项" in m for m in text), text
    broken.refresh_from_db()
    good.refresh_from_db()
    assert broken.status == SurveyStatus.DRAFT
    assert good.status == SurveyStatus.PUBLISHED

    client.post(
        reverse("admin:surveys_survey_changelist"),
        {"action": "close", "_selected_action": [good.pk]},
    )
    good.refresh_from_db()
    assert good.status == SurveyStatus.CLOSED


def test_duplicate_copies_questions_choices_and_logic(community, moderator):
    _m, client = moderator
    survey = with_condition(make_survey(community, basic_questions(), title="原问卷"))
    client.post(
        reverse("admin:surveys_survey_changelist"),
        {"action": "duplicate", "_selected_action": [survey.pk]},
    )
    copy = Survey.objects.exclude(pk=survey.pk).get()
    assert copy.status == SurveyStatus.DRAFT and "原问卷" in copy.title
    questions = list(copy.questions.order_by("order"))
    assert [q.title for q in questions] == ["来吗?", "打分", "为什么?"]
    yes = Choice.objects.get(question=questions[0], label="Yes")
    assert questions[2].condition["rules"][0] == {
        "question_id": questions[0].id,
        "operator": "equals",
        "value": yes.id,
    }
    assert services.survey_check(survey=copy) == []
    assert Question.objects.filter(survey=survey).count() == 3  # original untouched


def test_preview_renders_questions_and_ids(community, moderator):
    _m, client = moderator
    survey = with_condition(make_survey(community, basic_questions()))
    html = client.get(reverse("admin:surveys_survey_preview", args=[survey.pk])).content.decode()
    assert "来吗?" in html and survey.q["q1"].id in html and survey.c["q1"]["Yes"].id in html
    assert "equals" in html


# --- report ---------------------------------------------------------------------------------
@pytest.fixture
def reported(community):
    survey = make_survey(
        community,
        [
            {"key": "c", "type": "single_choice", "title": "城市", "choices": ["北京", "上海"]},
            {"key": "n", "type": "nps", "title": "推荐"},
            {"key": "r", "type": "rating", "title": "评分"},
            {"key": "t", "type": "short_text", "title": "建议"},
        ],
        publish_results=True,
    )
    rows = [("北京", 10, 5, "很好"), ("北京", 9, 4, ""), ("上海", 7, 3, "一般"), ("上海", 3, 1, "")]
    for city, nps, rating, text in rows:
        answers = {
            survey.q["c"].id: {"choice": survey.c["c"][city].id},
            survey.q["n"].id: nps,
            survey.q["r"].id: rating,
        }
        if text:
            answers[survey.q["t"].id] = text
        _submit(community, survey, answers)
    services.response_save_draft(
        membership=MembershipFactory(community=community), survey=survey, answers={}
    )
    return survey


def test_report_numbers(reported, moderator):
    _m, client = moderator
    response = client.get(reverse("admin:surveys_survey_report", args=[reported.pk]))
    report = response.context["report"]
    assert (report.submitted, report.started, report.completion_rate) == (4, 5, 80.0)
    city, nps, rating, text = report.questions
    assert [(c["label"], c["count"], c["percent"]) for c in city.choices] == [
        ("北京", 2, 50.0),
        ("上海", 2, 50.0),
    ]
    assert nps.nps == {
        "score": 25.0,
        "promoters": 2,
        "passives": 1,
        "detractors": 1,
        "promoters_percent": 50.0,
        "passives_percent": 25.0,
        "detractors_percent": 25.0,
    }
    assert (rating.mean, rating.median, rating.minimum, rating.maximum) == (3.25, 3.5, 1, 5)
    assert [p["count"] for p in rating.distribution] == [1, 0, 1, 1, 1]
    assert sorted(text.texts) == ["一般", "很好"]
    html = response.content.decode()
    assert 'class="sv-fill" style="width:50.0%"' in html


def test_report_crosstab(reported, moderator):
    _m, client = moderator
    url = reverse("admin:surveys_survey_report", args=[reported.pk])
    response = client.get(url, {"rows": reported.q["c"].id, "columns": reported.q["r"].id})
    table = response.context["crosstab"]
    assert table.row_labels == ["北京", "上海"]
    assert table.column_labels == ["1", "2", "3", "4", "5"]
    assert table.counts == [[0, 0, 0, 1, 1], [1, 0, 1, 0, 0]]
    assert table.total == 4
    assert 'id="sv-crosstab"' in response.content.decode()


# --- exports --------------------------------------------------------------------------------
def test_export_csv_and_xlsx(reported, moderator, media, django_capture_on_commit_callbacks):
    _m, client = moderator
    for fmt in ("csv", "xlsx"):
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(reverse("admin:surveys_survey_export", args=[reported.pk, fmt]))
        assert response.status_code == 302
    exports = {e.format: e for e in Export.objects.all()}
    assert {e.status for e in exports.values()} == {"done"}
    assert exports["csv"].rows_done == exports["csv"].rows_total == 4

    download = client.get(
        reverse("admin:surveys_survey_export_download", args=[reported.pk, exports["csv"].pk])
    )
    content = b"".join(download.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(content)))
    assert rows[0][3:] == ["城市", "推荐", "评分", "建议"]
    assert [r[3:] for r in rows[1:]] == [
        ["北京", "10", "5", "很好"],
        ["北京", "9", "4", ""],
        ["上海", "7", "3", "一般"],
        ["上海", "3", "1", ""],
    ]

    download = client.get(
        reverse("admin:surveys_survey_export_download", args=[reported.pk, exports["xlsx"].pk])
    )
    book = openpyxl.load_workbook(io.BytesIO(b"".join(download.streaming_content)))
    values = list(book.active.iter_rows(values_only=True))
    assert values[0][3:] == ("城市", "推荐", "评分", "建议")
    assert values[1][3:] == ("北京", 10, 5, "很好")
    assert len(values) == 5

    report = client.get(reverse("admin:surveys_survey_report", args=[reported.pk]))
    assert "Download" in report.content.decode() or "下载" in report.content.decode()


def test_export_download_checks_community(
    reported, community, media, django_capture_on_commit_callbacks
):
    owner = MembershipFactory(community=community, tier="moderator")
    with django_capture_on_commit_callbacks(execute=True):
        export = services.export_request(actor=owner, survey_id=reported.pk, format="csv")
    stranger = MembershipFactory(community=CommunityFactory(), tier="moderator")
    stranger.user.is_staff = True
    stranger.user.save()
    client = Client()
    client.force_login(stranger.user)
    url = reverse("admin:surveys_survey_export_download", args=[reported.pk, export.pk])
    assert client.get(url).status_code == 404


def test_export_is_idempotent(reported, community, media, django_capture_on_commit_callbacks):
    owner = MembershipFactory(community=community, tier="moderator")
    with django_capture_on_commit_callbacks(execute=True):
        export = services.export_request(actor=owner, survey_id=reported.pk, format="csv")
    name = Export.objects.get().file.name
    assert services.export_run(export_id=export.pk) == "skipped"
    assert Export.objects.get().file.name == name


def test_question_page_choices_are_this_surveys_pages(community, moderator):
    _m, client = moderator
    mine = make_survey(community, basic_questions(), pages=[{"title": "第一页"}])
    other = make_survey(CommunityFactory(), basic_questions(), pages=[{"title": "别人的页"}])
    html = client.get(reverse("admin:surveys_survey_change", args=[mine.pk])).content.decode()
    assert "第一页" in html and "别人的页" not in html
    html = client.get(reverse("admin:surveys_survey_add")).content.decode()
    assert "别人的页" not in html and other.pages_[0].id not in html


# --- definitions cannot change under submitted answers (admin forms) --------------------------
QUESTION_FORM_FIELDS = (
    "description",
    "min_value",
    "max_value",
    "min_length",
    "max_length",
    "pattern",
    "pattern_message",
    "min_selections",
    "max_selections",
    "scale_min",
    "scale_max",
)


def _change_data(survey: Survey) -> dict:
    """The survey's change form posted back as it is stored (tests then change one thing)."""
    survey.refresh_from_db()
    data = {
        "title": survey.title,
        "description": survey.description,
        "thank_you_text": survey.thank_you_text,
        "response_cap": "" if survey.response_cap is None else str(survey.response_cap),
    }
    for flag in ("allow_multiple_responses", "allow_edit_after_submit", "anonymous"):
        if getattr(survey, flag):
            data[flag] = "on"
    if survey.publish_results:
        data["publish_results"] = "on"
    pages = list(survey.pages.order_by("order"))
    questions = list(survey.questions.order_by("order"))
    data.update(_management("pages", len(pages), len(pages)))
    data.update(_management("questions", len(questions), len(questions)))
    data.update(_management("exports", 0))
    for i, page in enumerate(pages):
        data.update(
            _question(
                "pages", i, id=page.id, survey=survey.pk, title=page.title, order=str(page.order)
            )
        )
    for i, q in enumerate(questions):
        fields = {
            "id": q.id,
            "survey": survey.pk,
            "type": q.type,
            "title": q.title,
            "page": q.page_id or "",
            "order": str(q.order),
            "choices_text": "\n".join(c.label for c in q.choices.filter(is_row=False)),
            "rows_text": "\n".join(c.label for c in q.choices.filter(is_row=True)),
            "condition": json.dumps(q.condition) if q.condition else "",
            "scale_labels_text": "\n".join(q.scale_labels or []),
        }
        for name in QUESTION_FORM_FIELDS:
            value = getattr(q, name)
            fields[name] = "" if value is None else str(value)
        for flag in ("required", "integer_only", "shuffle_choices"):
            if getattr(q, flag):
                fields[flag] = "on"
        data.update(_question("questions", i, **fields))
    return data


CHOICES_LOCKED = (
    "Choices cannot be removed once responses have been submitted; rename them instead."
)
QUESTIONS_LOCKED = (
    "Questions cannot be deleted once responses have been submitted; duplicate the survey to "
    "start a new version."
)


def _zh(message: str) -> str:
    """The message as the admin shows it (zh-hans, the default language)."""
    with translation.override("zh-hans"):
        return translation.gettext(message)


@pytest.fixture
def answered(community):
    survey = make_survey(community, basic_questions(n_extra=1), title="已答问卷")
    answers = {
        survey.q["q1"].id: {"choice": survey.c["q1"]["No"].id},
        survey.q["q2"].id: 3,
        survey.q["q3"].id: "ok",
    }
    _submit(community, survey, answers)
    survey.refresh_from_db()
    return survey


def _post_change(client, survey, data):
    return client.post(reverse("admin:surveys_survey_change", args=[survey.pk]), data)


def test_unchanged_form_saves_and_keeps_the_version(answered, moderator):
    _m, client = moderator
    version = answered.version
    response = _post_change(client, answered, _change_data(answered))
    assert response.status_code == 302
    answered.refresh_from_db()
    assert answered.version == version


def test_rewording_a_question_in_the_admin_bumps_the_version(answered, moderator):
    _m, client = moderator
    version = answered.version
    data = _change_data(answered)
    data["questions-2-title"] = "为什么呢?"
    data["questions-0-choices_text"] = "Yes\nNo\nMaybe"
    assert _post_change(client, answered, data).status_code == 302
    answered.refresh_from_db()
    assert answered.version > version
    assert [c.label for c in answered.q["q1"].choices.order_by("order")] == ["Yes", "No", "Maybe"]


def test_admin_refuses_removing_a_choice_after_submissions(answered, moderator):
    _m, client = moderator
    data = _change_data(answered)
    data["questions-0-choices_text"] = "No"  # "Yes" was never picked, but answers exist
    response = _post_change(client, answered, data)
    assert response.status_code == 200
    errors = response.context["inline_admin_formsets"][1].formset.errors[0]
    assert "choices_text" in errors and _zh(CHOICES_LOCKED) in str(errors["choices_text"])
    assert answered.q["q1"].choices.count() == 2


def test_admin_refuses_changing_a_question_type_after_submissions(answered, moderator):
    _m, client = moderator
    data = _change_data(answered)
    data["questions-2-type"] = "long_text"
    response = _post_change(client, answered, data)
    assert response.status_code == 200
    assert "type" in response.context["inline_admin_formsets"][1].formset.errors[2]
    assert Question.objects.get(pk=answered.q["q3"].pk).type == "short_text"


def test_admin_refuses_deleting_a_question_after_submissions(answered, moderator):
    """An unanswered question: the service's rule; an answered one: also the admin's own
    protected-objects check (the answers restrict the deletion)."""
    _m, client = moderator
    for index, key in ((3, "x0"), (2, "q3")):
        data = _change_data(answered)
        data[f"questions-{index}-DELETE"] = "on"
        response = _post_change(client, answered, data)
        assert response.status_code == 200
        errors = str(response.context["inline_admin_formsets"][1].formset.non_form_errors())
        assert errors
        if key == "x0":
            assert _zh(QUESTIONS_LOCKED) in errors
        assert Question.objects.filter(pk=answered.q[key].pk).exists()


def test_admin_refuses_cap_below_submitted_and_anonymous_after_publishing(answered, moderator):
    _m, client = moderator
    data = _change_data(answered)
    data["response_cap"] = "0"
    data["anonymous"] = "on"
    response = _post_change(client, answered, data)
    assert response.status_code == 200  # a form error, not a 500
    errors = response.context["adminform"].form.errors
    assert "response_cap" in errors
    answered.refresh_from_db()
    assert (answered.response_cap, answered.anonymous) == (None, False)

    del data["response_cap"]
    data["response_cap"] = "1"
    response = _post_change(client, answered, data)
    assert "anonymous" in response.context["adminform"].form.errors
    del data["anonymous"]
    assert _post_change(client, answered, data).status_code == 302
    answered.refresh_from_db()
    assert answered.response_cap == 1


def test_question_page_refuses_deleting_a_picked_choice_and_changing_type(answered, moderator):
    _m, client = moderator
    q1 = answered.q["q1"]
    yes, no = answered.c["q1"]["Yes"], answered.c["q1"]["No"]
    url = reverse("admin:surveys_question_change", args=[q1.pk])
    assert client.get(url).status_code == 200
    data = {
        "type": q1.type,
        "title": q1.title,
        "required": "on",
        **_management("choices", 2, initial=2),
    }
    for i, choice in enumerate((yes, no)):
        data.update(
            _question(
                "choices", i, id=choice.id, question=q1.pk, label=choice.label, order=str(i + 1)
            )
        )
    data["choices-0-DELETE"] = "on"  # "Yes" was never picked: the service's rule refuses it
    response = client.post(url, data)
    assert response.status_code == 200
    errors = str(response.context["inline_admin_formsets"][0].formset.non_form_errors())
    assert _zh(CHOICES_LOCKED) in errors
    assert Choice.objects.filter(pk=yes.pk).exists()

    del data["choices-0-DELETE"]
    data["type"] = "dropdown"
    response = client.post(url, data)
    assert response.status_code == 200 and "type" in response.context["adminform"].form.errors
    data["type"] = q1.type
    data["choices-0-label"] = "是"  # relabelling is allowed
    assert client.post(url, data).status_code == 302
    yes.refresh_from_db()
    assert yes.label == "是"
