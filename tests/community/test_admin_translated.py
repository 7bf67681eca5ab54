"""Complete Chinese in the back office: every admin changelist, add and change page (and the
survey preview and the dashboard) walked as a superuser in zh-hans shows no English field
label, choice label or raw code of our models in its visible text."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from django.apps import apps
from django.contrib import admin
from django.test import Client
from django.urls import reverse
from django.utils import translation

from events.models import EventStatus
from polls.models import PollStatus
from surveys.engine.definitions import Operator, QuestionType
from surveys.models import Choice, Page, Question, Survey, SurveyState
from tests.community.test_admin_dashboard import _fill
from tests.factories import CommunityFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

OUR_APPS = {"community", "polls", "surveys", "events", "roles"}


class _VisibleText(HTMLParser):
    """The text a person reads: no scripts, styles, form values, icons or ``<code>`` ids."""

    SKIP = {"script", "style", "textarea", "code", "template", "option"}

    def __init__(self) -> None:
        super().__init__()
        self.skipping: list[str] = []
        self.texts: list[str] = []

    VOID = {"input", "img", "br", "hr", "meta", "link", "source", "col", "wbr", "area"}

    def handle_starttag(self, tag, attrs):
        if tag in self.VOID:  # never closed: nothing inside to skip
            return
        icon = "material-symbols" in (dict(attrs).get("class") or "")  # icon ligatures
        if self.skipping and tag == self.skipping[-1] or tag in self.SKIP or icon:
            self.skipping.append(tag)

    def handle_endtag(self, tag):
        if self.skipping and tag == self.skipping[-1]:
            self.skipping.pop()

    def handle_data(self, data):
        if not self.skipping and data.strip():
            self.texts.append(" ".join(data.split()))


def visible_texts(html: str) -> list[str]:
    parser = _VisibleText()
    parser.feed(html)
    return parser.texts


def _english_and_codes() -> tuple[set[str], set[str]]:
    """Our models' English labels (field names, verbose names, choice labels) and raw codes."""
    labels: set[str] = set()
    codes: set[str] = {t.value for t in QuestionType} | {o.value for o in Operator}
    # statuses computed from the clock (no field carries their choices)
    codes |= {s.value for s in (*PollStatus, *SurveyState, *EventStatus)}
    with translation.override("en"):
        for model in apps.get_models():
            if model._meta.app_label not in OUR_APPS:
                continue
            labels |= {str(model._meta.verbose_name), str(model._meta.verbose_name_plural)}
            for field in model._meta.get_fields():
                if hasattr(field, "verbose_name"):
                    labels.add(str(field.verbose_name))
                for value, label in getattr(field, "flatchoices", None) or []:
                    codes.add(str(value))
                    labels.add(str(label))
    labels = {label.lower() for label in labels if re.search("[A-Za-z]{3}", label)}
    codes = {code for code in codes if re.fullmatch(r"[a-z_]{3,}", code)}
    return labels, codes


def _untranslated(texts: list[str], labels: set[str], codes: set[str]) -> set[str]:
    found = set()
    for text in texts:
        lowered = text.lower().strip(" :：")
        if lowered in labels or lowered in codes:
            found.add(text)
        found |= {f"({c})" for c in codes if f"({c})" in text}
    return found


@pytest.fixture
def site_with_data():
    community = CommunityFactory(name="徒步群")
    _fill(community, "徒步")
    author = MembershipFactory(community=community, tier="owner").user
    survey = Survey.objects.create(community=community, author=author, title="满意度调查")
    page = Page.objects.create(community=community, survey=survey, title="第一页", order=1)
    pick = Question.objects.create(
        community=community, survey=survey, page=page, type="single_choice", title="去过吗", order=1
    )
    yes = Choice.objects.create(
        community=community, survey=survey, question=pick, label="去过", order=1
    )
    Question.objects.create(
        community=community,
        survey=survey,
        page=page,
        type="rating",
        title="打几分",
        order=2,
        condition={
            "match": "all",
            "rules": [{"question_id": pick.pk, "operator": "equals", "value": yes.pk}],
        },
    )
    return survey


def _pages(survey) -> list[str]:
    urls = [reverse("admin:index"), reverse("admin:surveys_survey_preview", args=[survey.pk])]
    for model in admin.site._registry:
        info = f"{model._meta.app_label}_{model._meta.model_name}"
        urls.append(reverse(f"admin:{info}_changelist"))
        urls.append(reverse(f"admin:{info}_add"))
        first = model._default_manager.order_by("pk").first()
        if first is not None:
            urls.append(reverse(f"admin:{info}_change", args=[first.pk]))
    return urls


def test_every_admin_page_is_chinese(site_with_data):
    superuser = UserFactory(is_staff=True, is_superuser=True)
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(superuser)
    labels, codes = _english_and_codes()
    problems = {}
    for url in _pages(site_with_data):
        response = client.get(url)
        if response.status_code == 403:  # an add page no one may use
            continue
        assert response.status_code == 200, url
        found = _untranslated(visible_texts(response.content.decode()), labels, codes)
        if found:
            problems[url] = sorted(found)
    assert problems == {}, "\n".join(f"{url}: {found}" for url, found in problems.items())


def test_the_check_catches_an_english_label_and_a_raw_code():
    labels, codes = _english_and_codes()
    html = "<table><th>community</th><td>open</td><td>问题 (rating)</td><td>社群</td></table>"
    assert _untranslated(visible_texts(html), labels, codes) == {"community", "open", "(rating)"}
