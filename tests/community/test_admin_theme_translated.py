"""Complete Chinese for the admin theme's own words: django-unfold ships no Chinese catalogue,
so every string its templates and forms translate ("Apply Filters", "Reset filters", "Select
action", "Next", ...) is translated in our catalogue, and no admin page in zh-hans shows one of
them in English -- in its visible text or in a placeholder, title or label a person reads."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
import unfold
from django.test import Client
from django.utils import translation

from tests.community.test_admin_translated import _pages, site_with_data  # noqa: F401
from tests.factories import UserFactory

UNFOLD = Path(unfold.__file__).parent
#: ``{% translate "..." %}`` (and ``trans``) in a template; ``_("...")`` in Python or a filter.
TEMPLATE_MSGID = re.compile(r"""\{%\s*trans(?:late)?\s+(["'])(.+?)\1""")
PYTHON_MSGID = re.compile(r"""\b_\(\s*(["'])(.+?)\1\s*[,)]""")


def theme_msgids() -> set[str]:
    """The theme's own English strings (templates and its forms, widgets, filters); the
    multi-line Python strings are left out, the check only needs exact whole strings."""
    found: set[str] = set()
    # The theme and the one contrib app we install (unfold.contrib.filters).
    for path in [
        *(UNFOLD / "templates").rglob("*.html"),
        *(UNFOLD / "contrib" / "filters").rglob("*.html"),
    ]:
        found |= {m.group(2) for m in TEMPLATE_MSGID.finditer(path.read_text())}
    for path in [*UNFOLD.glob("*.py"), *(UNFOLD / "contrib" / "filters").rglob("*.py")]:
        found |= {m.group(2) for m in PYTHON_MSGID.finditer(path.read_text())}
    # Texts that read the same in Chinese are not words to translate.
    return {m for m in found if re.search("[A-Za-z]{2}", m) and "{" not in m}


class _ReadText(HTMLParser):
    """Visible text plus the attributes a person reads, without scripts and icon ligatures."""

    SKIP = {"script", "style", "template", "textarea", "code"}
    VOID = {"input", "img", "br", "hr", "meta", "link", "source", "col", "wbr", "area"}
    READ_ATTRS = ("placeholder", "title", "aria-label", "alt")

    def __init__(self) -> None:
        super().__init__()
        self.skipping: list[str] = []
        self.texts: list[str] = []

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        if not self.skipping:
            self.texts += [" ".join(values[a].split()) for a in self.READ_ATTRS if values.get(a)]
        if tag in self.VOID:
            return
        icon = "material-symbols" in (values.get("class") or "")
        if self.skipping and tag == self.skipping[-1] or tag in self.SKIP or icon:
            self.skipping.append(tag)

    def handle_endtag(self, tag):
        if self.skipping and tag == self.skipping[-1]:
            self.skipping.pop()

    def handle_data(self, data):
        if not self.skipping and data.strip():
            self.texts.append(" ".join(data.split()))


def english_theme_strings(html: str, msgids: set[str]) -> set[str]:
    parser = _ReadText()
    parser.feed(html)
    return {text for text in parser.texts if text.strip(" :：") in msgids}


def test_every_theme_string_has_a_chinese_translation():
    msgids = theme_msgids()
    assert len(msgids) > 50  # the extraction still finds the theme's strings
    with translation.override("zh-hans"):
        missing = sorted(m for m in msgids if translation.gettext(m) == m)
    assert missing == []


@pytest.mark.django_db
def test_no_admin_page_shows_a_theme_string_in_english(site_with_data):  # noqa: F811
    superuser = UserFactory(is_staff=True, is_superuser=True)
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(superuser)
    msgids = theme_msgids()
    problems = {}
    for url in _pages(site_with_data):
        response = client.get(url)
        if response.status_code == 403:
            continue
        assert response.status_code == 200, url
        found = english_theme_strings(response.content.decode(), msgids)
        if found:
            problems[url] = sorted(found)
    assert problems == {}, "\n".join(f"{url}: {found}" for url, found in problems.items())


@pytest.mark.django_db
def test_the_check_finds_the_theme_strings_on_an_english_page(site_with_data):  # noqa: F811
    """Control: the same pages in English do show the theme's strings, so the check above
    can fail."""
    superuser = UserFactory(is_staff=True, is_superuser=True)
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(superuser)
    html = client.get("/admin/surveys/survey/").content.decode()
    found = english_theme_strings(html, theme_msgids())
    assert {"Select all rows", "Run"} <= found, found
