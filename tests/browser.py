"""Shared plumbing of the browser tests (headless Debian Chromium through Playwright).

One browser per test module (``browser`` fixture), one fresh context per test (``admin_page``:
signed in as a staff moderator through the session cookie, Chinese, recording every request
that leaves the machine). :func:`screenshot_and_check` keeps a full-page screenshot under
``test-output/screenshots/`` (a CI artefact) and fails on English labels of our models, raw
codes, the admin theme's English words or a request to a non-local host."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlparse

import pytest
from django.db import connections
from django.test import Client

from tests.community.test_admin_theme_translated import english_theme_strings, theme_msgids
from tests.community.test_admin_translated import _english_and_codes, _untranslated, visible_texts

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parent.parent / "test-output" / "screenshots"
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}

#: Module marks: run with the browser marker, skip cleanly only when Chromium is missing.
browser_marks = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(),
        reason=f"{CHROMIUM} is missing (apt-get install chromium; .ci/run installs it)",
    ),
]


@pytest.fixture(scope="module")
def browser():
    # Playwright's sync API runs an event loop in this thread; Django's ORM calls in the test
    # body are still synchronous and safe here.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()
            if previous is None:
                os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
            else:
                os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


class AdminPage:
    """A signed-in page plus what it requested outside the machine."""

    def __init__(self, page, base: str) -> None:
        self.page = page
        self.base = base
        self.remote_requests: list[str] = []
        page.on("request", self._record)

    def _record(self, request) -> None:
        url = urlparse(request.url)
        if url.scheme in ("http", "https", "ws", "wss") and url.hostname not in LOCAL_HOSTS:
            self.remote_requests.append(request.url)

    def goto(self, path: str) -> None:
        self.page.goto(self.base + path)


def sign_in(browser, live_server, user, *, language: str = "zh-hans") -> AdminPage:
    """A fresh context signed in as ``user`` (a session made by Django's test client)."""
    client = Client()
    client.force_login(user)
    host = urlparse(live_server.url).hostname
    context = browser.new_context(
        locale="zh-CN",
        extra_http_headers={"Accept-Language": language},
        viewport={"width": 1280, "height": 900},
    )
    context.add_cookies(
        [
            {
                "name": "sessionid",
                "value": client.cookies["sessionid"].value,
                "domain": host,
                "path": "/",
            }
        ]
    )
    page = context.new_page()
    page.set_default_timeout(15000)
    return AdminPage(page, live_server.url)


def close(admin_page: AdminPage) -> None:
    admin_page.page.context.close()
    # While Playwright's loop runs, Django hands this code a context-local DB connection;
    # close it, or it keeps the test database open at teardown.
    connections.close_all()


def untranslated_on(html: str) -> set[str]:
    """English labels of our models, raw codes and the theme's English words in ``html``."""
    labels, codes = _english_and_codes()
    return _untranslated(visible_texts(html), labels, codes) | english_theme_strings(
        html, theme_msgids()
    )


def screenshot_and_check(admin_page: AdminPage, name: str) -> Path:
    """Keep ``test-output/screenshots/<name>.png`` and check the page as a reader would."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    admin_page.page.screenshot(path=str(path), full_page=True)
    assert untranslated_on(admin_page.page.content()) == set(), name
    assert admin_page.remote_requests == [], name
    return path
