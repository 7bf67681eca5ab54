"""Keyword rules: a pattern (exact, contains, or a regular expression validated when saved and
run with a time limit) and the reply it gives, with a priority. Written by the admin tiers and
holders of the publish-content capability."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from assistant import matching
from assistant.models import FaqEntry, KeywordRule, MatchKind, RuleReplyKind
from assistant.services.faq import ANSWER_MAX
from community.authz import Action, ensure
from community.errors import Conflict, DomainError, NotFound
from community.models import Membership
from community.services.content import content_screen_strict
from community.text import member_text

PRIORITY_MIN, PRIORITY_MAX = -1000, 1000
TITLE_MAX = 100
PAGE_PATH_MAX = 200
MEDIA_ID_MAX = 128
URL_MAX = 500
#: At most this many rules per community: every message is matched against all of them.
RULES_MAX = 200

FIELDS = (
    "match_kind",
    "pattern",
    "priority",
    "reply_kind",
    "reply_text",
    "reply_title",
    "reply_page_path",
    "reply_url",
    "reply_media_id",
    "faq_id",
    "enabled",
)

#: What each reply kind needs (the rest is cleared, so a stored rule never carries stale parts).
NEEDS: dict[str, tuple[str, ...]] = {
    RuleReplyKind.TEXT: ("reply_text",),
    RuleReplyKind.LINK: ("reply_title", "reply_url"),
    RuleReplyKind.MINIPROGRAMPAGE: ("reply_title", "reply_page_path", "reply_media_id"),
    RuleReplyKind.IMAGE: ("reply_media_id",),
    RuleReplyKind.FAQ: ("faq_id",),
}
#: What each reply kind may carry besides what it needs.
MAY: dict[str, tuple[str, ...]] = {RuleReplyKind.LINK: ("reply_text",)}


def _required(field: str) -> DomainError:
    return DomainError(_("This field is required for this reply."), code="required", field=field)


def _clean(rule: KeywordRule) -> None:
    """Check and normalise the rule in place (400 naming the field)."""
    if rule.match_kind not in MatchKind.values:
        raise DomainError(_("Unknown match."), code="invalid_choice", field="match_kind")
    if rule.reply_kind not in RuleReplyKind.values:
        raise DomainError(_("Unknown reply."), code="invalid_choice", field="reply_kind")
    try:
        rule.pattern = matching.validate_pattern(rule.match_kind, rule.pattern or "")
    except matching.PatternError as exc:
        messages = {
            "pattern_too_long": _("The pattern is too long (at most %(n)d characters).")
            % {"n": matching.PATTERN_MAX},
            "pattern_invalid": _("This is not a valid regular expression."),
            "pattern_matches_empty": _("This regular expression matches every message."),
            "pattern_too_slow": _(
                "This regular expression takes too long on some messages; simplify it."
            ),
            "pattern_empty": _("The pattern needs at least one letter or digit."),
        }
        raise DomainError(
            messages.get(exc.code, _("Invalid pattern.")), code=exc.code, field="pattern"
        ) from exc
    if not isinstance(rule.priority, int) or not PRIORITY_MIN <= rule.priority <= PRIORITY_MAX:
        raise DomainError(
            _("Ensure this value is between %(lo)d and %(hi)d.")
            % {"lo": PRIORITY_MIN, "hi": PRIORITY_MAX},
            code="out_of_range",
            field="priority",
        )
    kind = rule.reply_kind
    keep = set(NEEDS.get(kind, ())) | set(MAY.get(kind, ()))
    for name in ("reply_text", "reply_title", "reply_page_path", "reply_url", "reply_media_id"):
        if name not in keep:
            setattr(rule, name, "")
    if "faq_id" not in keep:
        rule.faq_id = None
    rule.reply_text = member_text(
        rule.reply_text or "", field="reply_text", multiline=True, blank=True, max_length=ANSWER_MAX
    )
    rule.reply_title = member_text(
        rule.reply_title or "", field="reply_title", blank=True, max_length=TITLE_MAX
    )
    rule.reply_page_path = (rule.reply_page_path or "").strip()
    if len(rule.reply_page_path) > PAGE_PATH_MAX or "://" in rule.reply_page_path:
        raise DomainError(
            _("A mini-program page path such as pages/index/index."),
            code="invalid_page_path",
            field="reply_page_path",
        )
    rule.reply_url = (rule.reply_url or "").strip()
    if rule.reply_url and (
        len(rule.reply_url) > URL_MAX or not rule.reply_url.startswith("https://")
    ):
        raise DomainError(
            _("The link must be an https address."), code="url_not_https", field="reply_url"
        )
    rule.reply_media_id = (rule.reply_media_id or "").strip()
    if len(rule.reply_media_id) > MEDIA_ID_MAX:
        raise DomainError(
            _("Ensure this text has no more than %(n)d characters.") % {"n": MEDIA_ID_MAX},
            code="max_length",
            field="reply_media_id",
        )
    for name in NEEDS.get(kind, ()):
        if not getattr(rule, name):
            raise _required(name)
    if (
        rule.faq_id is not None
        and not FaqEntry.objects.filter(community_id=rule.community_id, pk=rule.faq_id).exists()
    ):
        raise NotFound(_("FAQ entry not found."), code="faq_entry_not_found")


def _screen(actor: Membership, rule: KeywordRule, before: KeywordRule | None) -> None:
    texts = {
        name: getattr(rule, name)
        for name in ("reply_text", "reply_title")
        if getattr(rule, name) and (before is None or getattr(before, name) != getattr(rule, name))
    }
    if texts:
        content_screen_strict(texts=texts, user=actor.user)


def keyword_rule_get(*, community_id: str, rule_id: str) -> KeywordRule:
    rule = KeywordRule.objects.filter(community_id=community_id, pk=rule_id).first()
    if rule is None:
        raise NotFound(_("Keyword rule not found."), code="keyword_rule_not_found")
    return rule


def keyword_rule_create(
    *,
    actor: Membership,
    match_kind: str,
    pattern: str,
    reply_kind: str,
    priority: int = 0,
    reply_text: str = "",
    reply_title: str = "",
    reply_page_path: str = "",
    reply_url: str = "",
    reply_media_id: str = "",
    faq_id: str | None = None,
    enabled: bool = True,
) -> KeywordRule:
    """Add a keyword rule. A regular expression is refused when it does not compile, is
    longer than the limit, matches the empty text or runs too long on probe texts (400 on
    ``pattern`` with the reason as code). Reply texts are screened like FAQ answers. 409
    ``too_many_rules`` past :data:`RULES_MAX`."""
    ensure(actor, Action.MANAGE_FAQ)
    now = timezone.now()
    rule = KeywordRule(
        community_id=actor.community_id,
        author_id=actor.user_id,
        match_kind=match_kind,
        pattern=pattern,
        priority=priority,
        reply_kind=reply_kind,
        reply_text=reply_text,
        reply_title=reply_title,
        reply_page_path=reply_page_path,
        reply_url=reply_url,
        reply_media_id=reply_media_id,
        faq_id=faq_id,
        enabled=enabled,
        created_at=now,
        updated_at=now,
    )
    _clean(rule)
    if KeywordRule.objects.filter(community_id=actor.community_id).count() >= RULES_MAX:
        raise Conflict(
            _("This community has the most keyword rules it may have (%(n)d).") % {"n": RULES_MAX},
            code="too_many_rules",
        )
    _screen(actor, rule, None)
    rule.save(force_insert=True)
    return rule


def keyword_rule_update(*, actor: Membership, rule_id: str, **fields: Any) -> KeywordRule:
    """Edit a keyword rule (checked and screened as on creation)."""
    ensure(actor, Action.MANAGE_FAQ)
    unknown = set(fields) - set(FIELDS)
    if unknown:
        raise DomainError(_("This field cannot be changed."), field=sorted(unknown)[0])
    before = keyword_rule_get(community_id=actor.community_id, rule_id=rule_id)
    rule = keyword_rule_get(community_id=actor.community_id, rule_id=rule_id)
    for name, value in fields.items():
        setattr(rule, name, value)
    _clean(rule)
    _screen(actor, rule, before)
    rule.updated_at = timezone.now()
    rule.save()
    return rule


def keyword_rule_delete(*, actor: Membership, rule_id: str) -> None:
    """Delete a keyword rule."""
    ensure(actor, Action.MANAGE_FAQ)
    keyword_rule_get(community_id=actor.community_id, rule_id=rule_id).delete()
