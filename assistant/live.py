"""Answers from live data: the next event with its seats left, the group rules, the open polls.

Reads only (through the events, polls and rules selectors, so what is hidden there -- held by
moderation, cancelled, closed -- is hidden here too), each turned into the text of one
customer-service message with a link into the mini-program page that shows it. Texts are written
in the product's language (the Celery task has no request to take one from)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.utils import formats
from django.utils.html import escape
from django.utils.translation import gettext as _

from community.models import Community, Membership
from community.selectors_rules import rules_page
from community.timezones import localize
from events.selectors import event_list
from polls.selectors import poll_list

#: At most this many open polls are listed in one reply (the newest first).
POLLS_SHOWN = 3


@dataclass(frozen=True)
class LiveAnswer:
    """A text and the mini-program page it points at."""

    text: str
    pagepath: str


def page_link(*, pagepath: str, label: str) -> str:
    """A link into the mini-program inside a customer-service text message (WeChat renders
    ``<a data-miniprogram-appid data-miniprogram-path>``); without an appid (development) the
    path alone, so the text still says where to look."""
    if not settings.WECHAT_APPID:
        return f"{label}: {pagepath}"
    return (
        f'<a href="https://mp.weixin.qq.com" data-miniprogram-appid="{escape(settings.WECHAT_APPID)}"'
        f' data-miniprogram-path="{escape(pagepath)}">{escape(label)}</a>'
    )


def _when(value: datetime, community: Community) -> str:
    return formats.date_format(localize(value, community), "Y-m-d H:i")


def next_event(*, membership: Membership, now: datetime) -> LiveAnswer:
    """The community's next event that has not started (not cancelled, not held), with its
    time, place and seats left; or a text saying there is none."""
    community = membership.community
    event = (
        event_list(viewer=membership, status="upcoming")
        .filter(starts_at__gt=now)
        .order_by("starts_at", "id")
        .first()
    )
    if event is None:
        return LiveAnswer(
            _("There is no upcoming event at the moment."),
            f"pages/events/index?id={community.pk}",
        )
    pagepath = f"pages/events/detail?id={event.pk}"
    lines = [
        _("Next event: %(title)s") % {"title": event.title},
        _("Time: %(when)s") % {"when": _when(event.starts_at, community)},
    ]
    if event.location_name:
        lines.append(_("Place: %(place)s") % {"place": event.location_name})
    seats = event.seats_left
    if seats is None:
        lines.append(_("Seats left: no limit"))
    elif seats == 0:
        lines.append(_("Seats left: none (you can join the waitlist)"))
    else:
        lines.append(_("Seats left: %(n)d") % {"n": seats})
    lines.append(page_link(pagepath=pagepath, label=_("Sign up")))
    return LiveAnswer("\n".join(lines), pagepath)


def rules(*, membership: Membership) -> LiveAnswer:
    """The current group rules version with its change summary, and the rules page."""
    community = membership.community
    pagepath = f"pages/community/rules?id={community.pk}"
    page = rules_page(viewer=membership)
    if not page["version"]:
        return LiveAnswer(_("This group has no written rules yet."), pagepath)
    lines = [
        _("Group rules of %(name)s, version %(v)d") % {"name": community.name, "v": page["version"]}
    ]
    if page["published_at"]:
        lines.append(_("Updated: %(when)s") % {"when": _when(page["published_at"], community)})
    if page["summary"]:
        lines.append(_("What changed: %(summary)s") % {"summary": page["summary"]})
    if page["sections"]:
        titles = [s.get("title") for s in page["sections"] if s.get("title")]
        if titles:
            lines.append(" / ".join(titles[:6]))
    lines.append(page_link(pagepath=pagepath, label=_("Read the group rules")))
    return LiveAnswer("\n".join(lines), pagepath)


def open_polls(*, membership: Membership, now: datetime) -> LiveAnswer:
    """The open polls (visible, not held), newest first, at most :data:`POLLS_SHOWN`, with
    their closing times; a text saying there is none otherwise."""
    community = membership.community
    polls = list(
        poll_list(viewer=membership, status="open").order_by("-opens_at", "-id")[: POLLS_SHOWN + 1]
    )
    list_path = f"pages/polls/index?id={community.pk}"
    if not polls:
        return LiveAnswer(_("There are no open polls at the moment."), list_path)
    lines = [_("Open polls:")]
    for poll in polls[:POLLS_SHOWN]:
        lines.append(
            _("%(title)s (closes %(when)s)")
            % {"title": poll.title, "when": _when(poll.closes_at, community)}
        )
    if len(polls) == 1:
        pagepath = f"pages/polls/detail?id={polls[0].pk}"
        lines.append(page_link(pagepath=pagepath, label=_("Vote now")))
        return LiveAnswer("\n".join(lines), pagepath)
    lines.append(page_link(pagepath=list_path, label=_("See all open polls")))
    return LiveAnswer("\n".join(lines), list_path)
