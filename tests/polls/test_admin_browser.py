"""In a real headless Chromium, a moderator creates a poll of each kind through the admin form,
which shows only the fields of the chosen kind; the saved poll is what the form said. Each
page is kept as a screenshot (``test-output/screenshots/poll_<kind>.png``), shows no English
label and asks nothing of a host outside the machine."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from polls.models import Poll
from tests.browser import browser, browser_marks, close, screenshot_and_check, sign_in  # noqa: F401
from tests.factories import MembershipFactory

pytestmark = browser_marks

#: The success message of the admin theme (django-unfold draws it green; it has no semantic class).
SUCCESS = "li > div.bg-green-100"


@pytest.fixture
def admin_page(browser, live_server, community):  # noqa: F811
    moderator = MembershipFactory(community=community, tier="moderator")
    moderator.user.is_staff = True
    moderator.user.save()
    page = sign_in(browser, live_server, moderator.user)
    yield page
    close(page)


def _shown(page, name: str) -> bool:
    return page.locator(f"[name={name}]").is_visible()


def _slot(page, index: int, day: datetime, start: str, end: str) -> None:
    date = day.strftime("%Y-%m-%d")
    page.fill(f"[name=options-{index}-starts_at_0]", date)
    page.fill(f"[name=options-{index}-starts_at_1]", start)
    page.fill(f"[name=options-{index}-ends_at_0]", date)
    page.fill(f"[name=options-{index}-ends_at_1]", end)


KINDS = {
    # name: (kind, fields that must show, fields that must not, extra form steps)
    "single": ("single", [], ["ranked_method", "min_score", "options-0-starts_at_0"]),
    "multiple": ("multiple", ["min_selections", "max_selections"], ["ranked_method"]),
    "ranked_irv": ("ranked", ["ranked_method"], ["min_score", "min_selections"]),
    "ranked_borda": ("ranked", ["ranked_method"], ["max_score"]),
    "score": ("score", ["min_score", "max_score"], ["ranked_method"]),
    "proposal": ("proposal", [], ["options-0-label", "allow_member_options"]),
    "time": ("time", ["options-0-starts_at_0"], ["ranked_method", "min_score"]),
}


@pytest.mark.parametrize("name", list(KINDS))
def test_moderator_creates_each_poll_kind(admin_page, community, name):
    kind, shown, hidden = KINDS[name]
    page = admin_page.page
    admin_page.goto("/admin/polls/poll/add/")
    page.select_option("#id_community", community.pk)
    page.fill("#id_title", f"投票-{name}")
    page.select_option("#id_kind", kind)
    closes = datetime.now() + timedelta(days=7)
    page.fill("[name=closes_at_0]", closes.strftime("%Y-%m-%d"))
    page.fill("[name=closes_at_1]", "20:00")
    for field in shown:
        assert _shown(page, field), f"{field} hidden for {name}"
    for field in hidden:
        assert not _shown(page, field), f"{field} shown for {name}"
    if kind != "proposal":
        page.fill("[name=options-0-label]", "甲")
        page.fill("[name=options-1-label]", "乙")
    if name == "multiple":
        page.fill("[name=max_selections]", "2")
    if name == "ranked_borda":
        page.select_option("[name=ranked_method]", "borda")
    if name == "score":
        page.fill("[name=min_score]", "1")
        page.fill("[name=max_score]", "10")
    if kind == "time":
        _slot(page, 0, closes + timedelta(days=1), "09:00", "10:00")
        _slot(page, 1, closes + timedelta(days=1), "14:00", "15:00")
    screenshot_and_check(admin_page, f"poll_{name}")
    page.click("[name=_save]")
    page.wait_for_selector(SUCCESS)
    screenshot_and_check(admin_page, f"poll_{name}_saved")

    poll = Poll.objects.get(title=f"投票-{name}")
    labels = list(poll.options.order_by("position").values_list("label", flat=True))
    assert poll.kind == kind
    if kind == "proposal":
        assert labels == []
    elif kind == "time":
        slots = list(poll.options.order_by("position").values_list("starts_at", "ends_at"))
        assert [(end - start) for start, end in slots] == [timedelta(hours=1)] * 2
        assert slots[1][0] - slots[0][0] == timedelta(hours=5)
    else:
        assert labels == ["甲", "乙"]
    if name == "multiple":
        assert poll.max_selections == 2
    if kind == "ranked":
        assert poll.ranked_method == ("borda" if name == "ranked_borda" else "irv")
    if name == "score":
        assert (poll.min_score, poll.max_score) == (1, 10)
