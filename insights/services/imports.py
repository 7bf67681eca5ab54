"""Chat message counts imported from a CSV (the mini-program cannot read the chat)."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from django.db import transaction
from django.utils.translation import gettext as _

from community.authz import Action, ensure
from community.errors import DomainError
from community.models import Membership, MembershipStatus
from insights.activity_store import member_days_add

MAX_ROWS = 50_000
_DATE_HEADERS = ("date", "day", "日期")
_WHO_HEADERS = ("member", "nickname", "openid", "name", "成员", "昵称")
_COUNT_HEADERS = ("messages", "count", "消息数", "发言数")


@dataclass
class UnmatchedRow:
    line: int
    member: str
    reason: str


@dataclass
class ImportReport:
    """What an import did: ``applied`` only when every row matched a member."""

    rows: int = 0
    applied: bool = False
    messages: int = 0
    unmatched: list[UnmatchedRow] = field(default_factory=list)


def _column(header: list[str], names: tuple[str, ...], fallback: int) -> int:
    lowered = [h.strip().lower() for h in header]
    for name in names:
        if name in lowered:
            return lowered.index(name)
    return fallback


def _bad_row(line: int, what: str) -> DomainError:
    return DomainError(
        _("Line %(line)d of the file: %(what)s") % {"line": line, "what": what},
        code="invalid_csv",
        field="file",
    )


def _parse(text: str) -> list[tuple[int, date, str, int]]:
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    rows = [(n, r) for n, r in enumerate(reader, start=1) if any(c.strip() for c in r)]
    if not rows:
        raise DomainError(_("The file holds no rows."), code="invalid_csv", field="file")
    header = rows[0][1]
    has_header = any(h.strip().lower() in _DATE_HEADERS for h in header)
    d, w, c = (
        (
            _column(header, _DATE_HEADERS, 0),
            _column(header, _WHO_HEADERS, 1),
            _column(header, _COUNT_HEADERS, 2),
        )
        if has_header
        else (0, 1, 2)
    )
    body = rows[1:] if has_header else rows
    if len(body) > MAX_ROWS:
        raise DomainError(
            _("A file holds at most %(n)d rows.") % {"n": MAX_ROWS},
            code="invalid_csv",
            field="file",
        )
    parsed = []
    for line, row in body:
        if len(row) <= max(d, w, c):
            raise _bad_row(line, _("three columns expected (date, member, messages)."))
        try:
            day = date.fromisoformat(row[d].strip().replace("/", "-"))
        except ValueError:
            raise _bad_row(line, _("the date must read YYYY-MM-DD.")) from None
        try:
            count = int(row[c].strip())
        except ValueError:
            raise _bad_row(line, _("the message count must be a whole number.")) from None
        if count < 0 or count > 1_000_000:
            raise _bad_row(line, _("the message count must be a whole number."))
        parsed.append((line, day, row[w].strip(), count))
    return parsed


def messages_import(*, actor: Membership, text: str) -> ImportReport:
    """Import chat message counts (``date, nickname or openid, messages`` per line, a header
    optional) into the member-days of ``actor``'s community. All or nothing: when any row
    names no member (or a nickname two members share), nothing is written and those rows are
    reported back. Importing the same file twice adds the counts twice (it is a log of counts,
    the admin imports each period once). 400 ``invalid_csv`` for a malformed file."""
    ensure(actor, Action.VIEW_ANALYTICS)
    rows = _parse(text)
    members = Membership.objects.filter(community_id=actor.community_id).exclude(
        status=MembershipStatus.PENDING
    )
    by_openid: dict[str, str] = {}
    by_nickname: dict[str, set[str]] = defaultdict(set)
    for user_id, openid, nickname in members.values_list(
        "user_id", "user__openid", "user__nickname"
    ):
        if openid:
            by_openid[openid] = user_id
        if nickname:
            by_nickname[nickname.strip()].add(user_id)
    report = ImportReport(rows=len(rows))
    counts: dict[tuple[str, date], int] = defaultdict(int)
    for line, day, who, count in rows:
        user_id = by_openid.get(who)
        if user_id is None:
            found = by_nickname.get(who, set())
            if len(found) > 1:
                report.unmatched.append(
                    UnmatchedRow(line, who, _("Two or more members have this nickname."))
                )
                continue
            user_id = next(iter(found), None)
        if user_id is None:
            report.unmatched.append(UnmatchedRow(line, who, _("No member has this nickname.")))
            continue
        counts[(user_id, day)] += count
    if report.unmatched:
        return report
    with transaction.atomic():
        member_days_add(
            (actor.community_id, user_id, day, {"messages": n})
            for (user_id, day), n in counts.items()
        )
    report.applied = True
    report.messages = sum(counts.values())
    return report
