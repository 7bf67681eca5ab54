"""In a real headless Chromium, a moderator's admin home: the dashboard of their community
(open polls with turnout, surveys with response rates, upcoming events with seats, overdue
tasks), in Chinese, drawn from local files only; kept as
``test-output/screenshots/dashboard.png``."""

from __future__ import annotations

from tests.browser import browser, browser_marks, close, screenshot_and_check, sign_in  # noqa: F401
from tests.community.test_admin_dashboard import _fill, _moderator_of
from tests.factories import CommunityFactory

pytestmark = browser_marks


def test_moderator_opens_the_dashboard(browser, live_server, transactional_db):  # noqa: F811
    hiking = CommunityFactory(name="徒步群")
    _fill(hiking, "徒步")
    admin_page = sign_in(browser, live_server, _moderator_of(hiking))
    try:
        admin_page.goto("/admin/")
        page = admin_page.page
        page.get_by_text("徒步投票").wait_for()
        for text in ("徒步问卷", "徒步活动", "投票率 50%", "3/10 座位"):
            assert page.get_by_text(text).count() >= 1, text
        screenshot_and_check(admin_page, "dashboard")
    finally:
        close(admin_page)


def test_the_page_checks_catch_english_and_a_request_off_the_machine(browser, live_server, db):  # noqa: F811
    """Control: the checks every browser test runs do fail on an English label of our models, a
    theme string left in English and a request to another host (aborted, never sent)."""
    from tests.browser import AdminPage, untranslated_on

    context = browser.new_context()
    try:
        page = context.new_page()
        page.route("http://example.invalid/**", lambda route: route.abort())
        admin_page = AdminPage(page, live_server.url)
        page.set_content(
            "<h1>community</h1><button>Apply Filters</button>"
            '<img src="http://example.invalid/logo.png">'
        )
        assert untranslated_on(page.content()) == {"community", "Apply Filters"}
        assert admin_page.remote_requests == ["http://example.invalid/logo.png"]
    finally:
        context.close()
