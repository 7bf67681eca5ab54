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
