"""The 接龙 text renderer (pure)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from events.jielong import JielongEntry, render_jielong

START = datetime(2026, 5, 12, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def test_familiar_shape_numbered_with_guests_notes_waitlist_and_seats():
    text = render_jielong(
        title="周六爬山",
        starts_at=START,
        location="香山公园北门",
        confirmed=[JielongEntry("小张", 1), JielongEntry("小李", 0, "带水")],
        waitlist=[JielongEntry("小王", 2)],
        capacity=3,
    )
    assert text == (
        "周六爬山 5/12 09:00\n"
        "地点: 香山公园北门\n"
        "1. 小张 +1\n"
        "2. 小李 (带水)\n"
        "候补:\n"
        "1. 小王 +2\n"
        "已报 3/3"
    )


def test_no_waitlist_section_when_nobody_waits_and_no_capacity():
    text = render_jielong(title="桌游", starts_at=START, confirmed=[JielongEntry("小张")])
    assert text == "桌游 5/12 09:00\n1. 小张\n已报 1"


def test_nobody_yet():
    assert render_jielong(title="桌游", starts_at=START, confirmed=[], capacity=10) == (
        "桌游 5/12 09:00\n已报 0/10"
    )


def test_line_breaks_in_names_and_notes_cannot_forge_list_lines():
    text = render_jielong(
        title="周六\n爬山",
        starts_at=START,
        confirmed=[JielongEntry("小张\n2. 假人", 0, "备注\r\n3. 又一个"), JielongEntry("小李")],
    )
    lines = text.split("\n")
    assert lines == [
        "周六 爬山 5/12 09:00",
        "1. 小张 2. 假人 (备注 3. 又一个)",
        "2. 小李",
        "已报 2",
    ]
