"""Every dashboard figure as a table (header and rows): the CSV export and the admin share it."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import date
from typing import Any

from django.utils.translation import gettext as _

from community.exports import safe_text
from community.models import Community
from insights import selectors
from insights.models import COUNTERS

Table = tuple[list[str], list[list[Any]]]


def _active(community: Community, today: date) -> Table:
    data = selectors.active_members(community=community, today=today)
    return [_("day"), _("active members"), "WAU", "MAU"], [
        [r["day"], r["active"], r["wau"], r["mau"]] for r in data["series"]
    ]


def _joins(community: Community, today: date) -> Table:
    rows = selectors.joins_per_week(community=community, today=today)
    return [_("week"), _("joins"), _("leaves"), _("left since")], [
        [r["week"], r["joins"], r["leaves"], r["left_since"]] for r in rows
    ]


def _participation(community: Community, today: date) -> Table:
    rows = selectors.participation(community=community, today=today)
    return [_("kind"), _("title"), _("participants"), _("rate")], [
        [r["kind"], r["title"], r["participants"], r["rate"]] for r in rows
    ]


def _heatmap(community: Community, today: date) -> Table:
    grid = selectors.heatmap(community=community, today=today)
    return [_("weekday"), *[f"{h:02d}" for h in range(24)]], [
        [i + 1, *row] for i, row in enumerate(grid)
    ]


def _segments(community: Community, today: date) -> Table:
    data = selectors.member_segments(community=community, today=today)
    return [_("segment"), _("nickname"), _("last active on"), _("active days (30)")], [
        [segment, m["nickname"], m["last_active_on"], m["active_days_30"]]
        for segment, members in data.items()
        for m in members
    ]


def _segment_counts(community: Community, today: date) -> Table:
    data = selectors.segment_counts(community=community, today=today)
    return [_("day"), *selectors.SEGMENTS], [
        [r["day"], *(r[s] for s in selectors.SEGMENTS)] for r in data["series"]
    ]


def _retention(community: Community, today: date) -> Table:
    rows = selectors.retention(community=community, today=today)
    width = max((len(r["active_share"]) for r in rows), default=0)
    return [_("join month"), _("joined"), *[f"+{i}" for i in range(width)]], [
        [r["month"], r["joined"], *r["active_share"]] for r in rows
    ]


def _top(community: Community, today: date) -> Table:
    rows = selectors.top_members(community=community, today=today)
    return [_("nickname"), _("actions"), _("active days")], [
        [r["nickname"], r["actions"], r["active_days"]] for r in rows
    ]


FIGURES: dict[str, Callable[[Community, date], Table]] = {
    "active": _active,
    "joins": _joins,
    "participation": _participation,
    "heatmap": _heatmap,
    "segments": _segments,
    "segment-counts": _segment_counts,
    "retention": _retention,
    "top-members": _top,
}


def figure_csv(*, community: Community, figure: str, today: date) -> str:
    """The figure as CSV text (cells that a spreadsheet would run as formulas defused)."""
    header, rows = FIGURES[figure](community, today)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    for row in rows:
        writer.writerow([safe_text(v) if isinstance(v, str) else v for v in row])
    return out.getvalue()


def timeline_csv(*, community: Community, user_id: str, today: date) -> str:
    data = selectors.member_timeline(community=community, user_id=user_id, today=today)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([_("day"), *COUNTERS])
    for row in data["days"]:
        writer.writerow([row["day"], *(row[c] for c in COUNTERS)])
    return out.getvalue()
