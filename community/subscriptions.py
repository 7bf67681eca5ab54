"""Subscribe-message templates: which ones exist, what each is for, and which a page asks for.

A one-time subscribe message may be sent once per acceptance: the mini-program asks with
``wx.requestSubscribeMessage`` (at most 3 templates at a time, from a tap), and each "accept"
allows one message of that template (``community.models.SubscriptionCredit``). Long-term
subscriptions, where the account has them, need no credit: a setting per template.

``WECHAT_TEMPLATES`` maps a notification kind to its template, either the template id (a
one-time template) or ``{"id": "...", "long_term": true}``."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext_lazy as _

#: What each kind of message is for, as the mini-program may show it before asking.
PURPOSES = {
    "poll_closed": _("Tells you the result when a poll you took part in closes."),
    "poll_reminder": _("Reminds you before a poll closes if you have not voted yet."),
    "announcement_published": _("Tells you about new announcements in the categories you follow."),
    "announcement_reminder": _("Reminds you to confirm an announcement you have not confirmed."),
    "rules_reminder": _("Reminds you to accept new group rules."),
    "newcomer_welcome": _("Welcomes you with the rules and your first steps."),
    "newcomer_check_in": _("Asks how your first week in the group is going."),
    "weekly_digest": _("Sends the admins the community's weekly digest on Monday morning."),
    "draw_won": _(
        "Tells you when you win a prize in a lucky draw, and how long you have to claim it."
    ),
    "export_ready": _("Tells you when an export you asked for is ready to download."),
    "still_here": _('Asks "still there?" when you have not been around for a long time.'),
    "welcome_back": _("Welcomes you back when you return to a group you were removed from."),
}

#: Mini-program pages and the kinds of message to request there (at most 3: WeChat's limit).
PAGES = {
    "poll": ["poll_closed", "poll_reminder"],
    "poll_create": ["poll_closed"],
    "announcement": ["announcement_published", "announcement_reminder"],
    "community_join": ["newcomer_welcome", "newcomer_check_in", "rules_reminder"],
    "insights": ["weekly_digest"],
    "draw": ["draw_won"],
    "community": ["still_here", "welcome_back"],
}
PAGE_CHOICES = [(page, page) for page in PAGES]
#: ``wx.requestSubscribeMessage`` takes at most this many template ids per call.
MAX_PER_REQUEST = 3


@dataclass(frozen=True)
class Template:
    kind: str
    template_id: str
    long_term: bool

    @property
    def purpose(self) -> str:
        return str(PURPOSES.get(self.kind, ""))


def configured_templates() -> dict[str, Template]:
    """Every kind with a template configured in ``WECHAT_TEMPLATES``."""
    out = {}
    for kind, value in (settings.WECHAT_TEMPLATES or {}).items():
        if isinstance(value, dict):
            template_id, long_term = str(value.get("id", "")), bool(value.get("long_term"))
        else:
            template_id, long_term = str(value or ""), False
        if template_id:
            out[kind] = Template(kind=kind, template_id=template_id, long_term=long_term)
    return out


def template_for(kind: str) -> Template | None:
    return configured_templates().get(kind)


def templates_for_page(page: str | None) -> list[Template]:
    """The configured templates a page asks for (every configured one without a page)."""
    templates = configured_templates()
    if page is None:
        return list(templates.values())
    return [templates[kind] for kind in PAGES.get(page, []) if kind in templates][:MAX_PER_REQUEST]
