"""The sign-up list as the 接龙 text members know from the group chat.

Pure: no Django imports. An organizer copies the text and pastes it into the group, so it has
the shape members are used to::

    周六爬山 5/12 09:00
    地点: 香山公园北门
    1. 小张 +1
    2. 小李 (带水)
    候补:
    1. 小王 +2
    已报 3/20

Names and notes are the members' own text: line breaks in them are flattened, so nobody can
forge extra lines ("3. 某某") in the list an organizer pastes. Labels are Chinese on purpose:
the text goes into a Chinese group chat whatever language the organizer's phone uses.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

_LINE_BREAKS = re.compile(r"[\r\n\u2028\u2029\u0085\x0b\x0c]+")


@dataclass(frozen=True)
class JielongEntry:
    """One line of the list: who, how many guests they bring, their note."""

    name: str
    guests: int = 0
    note: str = ""


def one_line(text: str) -> str:
    """``text`` on one line (line breaks become spaces), trimmed."""
    return _LINE_BREAKS.sub(" ", text or "").strip()


def _line(number: int, entry: JielongEntry) -> str:
    line = f"{number}. {one_line(entry.name) or '?'}"
    if entry.guests:
        line += f" +{entry.guests}"
    note = one_line(entry.note)
    if note:
        line += f" ({note})"
    return line


def render_jielong(
    *,
    title: str,
    starts_at: datetime,
    confirmed: Sequence[JielongEntry],
    waitlist: Sequence[JielongEntry] = (),
    location: str = "",
    capacity: int | None = None,
) -> str:
    """The 接龙 text: a heading (title, local month/day and time), the location, the
    confirmed sign-ups numbered in order, the waitlist numbered on its own, and the seats
    taken (against the capacity, when there is one). ``starts_at`` is already local."""
    lines = [f"{one_line(title)} {starts_at.month}/{starts_at.day} {starts_at:%H:%M}"]
    if one_line(location):
        lines.append(f"地点: {one_line(location)}")
    lines.extend(_line(n, entry) for n, entry in enumerate(confirmed, start=1))
    if waitlist:
        lines.append("候补:")
        lines.extend(_line(n, entry) for n, entry in enumerate(waitlist, start=1))
    seats = sum(1 + entry.guests for entry in confirmed)
    lines.append(f"已报 {seats}/{capacity}" if capacity is not None else f"已报 {seats}")
    return "\n".join(lines)
