"""The .ics builder (pure): times in the community's zone with its VTIMEZONE, text escaped,
cancellations marked, a feed of several events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar

from events.ics import DEFAULT_DURATION, IcsEvent, calendar_bytes

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def _event(**kw) -> IcsEvent:
    values = {
        "uid": "Hk3mP9xQa2Zb@events",
        "title": "周六爬山",
        "starts_at": datetime(2026, 5, 12, 1, 0, tzinfo=UTC),  # 09:00 in Shanghai
        "ends_at": datetime(2026, 5, 12, 5, 0, tzinfo=UTC),
    }
    values.update(kw)
    return IcsEvent(**values)


def _parse(data: bytes) -> Calendar:
    return Calendar.from_ical(data)


def test_start_is_local_wall_time_of_the_community_with_its_zone():
    cal = _parse(calendar_bytes([_event()], zone=SHANGHAI, now=NOW))
    (vevent,) = cal.walk("VEVENT")
    start = vevent.decoded("dtstart")
    assert (start.hour, start.minute) == (9, 0)
    assert vevent["dtstart"].params["TZID"] == "Asia/Shanghai"
    assert start.astimezone(UTC) == datetime(2026, 5, 12, 1, 0, tzinfo=UTC)
    assert [tz["TZID"] for tz in cal.walk("VTIMEZONE")] == ["Asia/Shanghai"]


def test_another_community_zone_gives_another_wall_time_same_instant():
    zone = ZoneInfo("America/New_York")
    (vevent,) = _parse(calendar_bytes([_event()], zone=zone, now=NOW)).walk("VEVENT")
    start = vevent.decoded("dtstart")
    assert start.hour == 21  # 2026-05-11 21:00 EDT
    assert start.astimezone(UTC) == datetime(2026, 5, 12, 1, 0, tzinfo=UTC)


def test_event_without_end_lasts_the_default_duration():
    (vevent,) = _parse(calendar_bytes([_event(ends_at=None)], zone=SHANGHAI, now=NOW)).walk(
        "VEVENT"
    )
    assert vevent.decoded("dtend") - vevent.decoded("dtstart") == DEFAULT_DURATION


def test_text_with_commas_semicolons_and_newlines_round_trips():
    title = "爬山, 烧烤; 然后唱歌"
    description = "带水,带伞;\n第二行"
    data = calendar_bytes(
        [
            _event(
                title=title,
                description=description,
                location_name="香山",
                latitude=39.99,
                longitude=116.19,
            )
        ],
        zone=SHANGHAI,
        now=NOW,
    )
    (vevent,) = _parse(data).walk("VEVENT")
    assert str(vevent["summary"]) == title
    assert str(vevent["description"]) == description
    assert str(vevent["location"]) == "香山"
    assert (vevent["geo"].latitude, vevent["geo"].longitude) == (39.99, 116.19)
    assert all(len(line) <= 75 for line in data.split(b"\r\n"))  # folded as the RFC asks


def test_cancelled_event_is_marked_cancelled_and_sequence_kept():
    (vevent,) = _parse(
        calendar_bytes([_event(cancelled=True, sequence=3)], zone=SHANGHAI, now=NOW)
    ).walk("VEVENT")
    assert str(vevent["status"]) == "CANCELLED"
    assert vevent.decoded("sequence") == 3


def test_feed_has_every_event_its_name_and_a_refresh_interval():
    events = [_event(uid=f"e{i}@events", starts_at=NOW + timedelta(days=i)) for i in range(3)]
    cal = _parse(
        calendar_bytes(events, zone=SHANGHAI, name="周末徒步群", now=NOW, refresh_minutes=60)
    )
    assert [str(e["uid"]) for e in cal.walk("VEVENT")] == ["e0@events", "e1@events", "e2@events"]
    assert str(cal["x-wr-calname"]) == "周末徒步群"
    assert cal.decoded("refresh-interval") == timedelta(hours=1)


def test_empty_feed_is_a_valid_calendar():
    cal = _parse(calendar_bytes([], zone=SHANGHAI, now=NOW))
    assert cal.walk("VEVENT") == []
    assert str(cal["version"]) == "2.0"
