"""FAQ entries: written by the admin tiers and holders of the publish-content capability,
screened like every published staff text; members vote "was this helpful?" once each."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Count, F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from assistant import matching
from assistant.models import QUESTION_MAX, FaqEntry, FaqFeedback, FaqStatus
from community.authz import Action, ensure
from community.errors import Conflict, DomainError, NotFound
from community.locking import lock_rows
from community.models import Membership
from community.services.content import content_screen_strict
from community.text import member_text, text_key

#: Longest answer: one customer-service text message reads well up to about this many
#: characters (WeChat's limit is 2,048 bytes of UTF-8, ~680 Chinese characters).
ANSWER_MAX = 600
CATEGORY_MAX = 50
KEYWORD_MAX = 30
KEYWORDS_MAX = 20
EDITABLE = frozenset({"question", "answer", "keywords", "category", "status"})


def _keywords(values: Any) -> list[str]:
    """The keywords in their normal form, without duplicates (compared as :func:`text_key`);
    each must keep a letter or digit (punctuation alone matches nothing). Refusals name
    ``keywords`` (the serializer names ``keywords.<index>`` for what it refuses itself; the
    contract keeps the two apart)."""
    if not isinstance(values, list | tuple):
        raise DomainError(_("Keywords must be a list of texts."), code="invalid", field="keywords")
    if len(values) > KEYWORDS_MAX:
        raise DomainError(
            _("At most %(n)d keywords.") % {"n": KEYWORDS_MAX}, code="max_length", field="keywords"
        )
    out: list[str] = []
    seen: set[str] = set()
    for value in values:
        if not isinstance(value, str):
            raise DomainError(
                _("Keywords must be a list of texts."), code="invalid", field="keywords"
            )
        keyword = member_text(value, field="keywords", max_length=KEYWORD_MAX)
        if not matching.normalize(keyword):
            raise DomainError(
                _("A keyword needs at least one letter or digit."),
                code="keyword_empty",
                field="keywords",
            )
        if text_key(keyword) not in seen:
            seen.add(text_key(keyword))
            out.append(keyword)
    return out


def _clean(fields: dict[str, Any]) -> dict[str, Any]:
    out = dict(fields)
    if "question" in out:
        out["question"] = member_text(out["question"], field="question", max_length=QUESTION_MAX)
    if "answer" in out:
        out["answer"] = member_text(
            out["answer"], field="answer", multiline=True, max_length=ANSWER_MAX
        )
    if "category" in out:
        out["category"] = member_text(
            out["category"] or "", field="category", blank=True, max_length=CATEGORY_MAX
        )
    if "keywords" in out:
        out["keywords"] = _keywords(out["keywords"] if out["keywords"] is not None else [])
    if "status" in out and out["status"] not in FaqStatus.values:
        raise DomainError(_("Unknown status."), code="invalid_choice", field="status")
    return out


def _screen(actor: Membership, fields: dict[str, Any]) -> None:
    """Staff texts cannot wait hidden in a queue (an FAQ answer goes out to members at once),
    so "review" or an unreachable WeChat refuse, like an announcement category's name."""
    texts = {name: fields[name] for name in ("question", "answer", "category") if fields.get(name)}
    if fields.get("keywords"):
        texts["keywords"] = " ".join(fields["keywords"])
    if texts:
        content_screen_strict(texts=texts, user=actor.user)


def _save(entry: FaqEntry) -> FaqEntry:
    try:
        with transaction.atomic():
            entry.save()
    except IntegrityError as exc:
        raise Conflict(
            _("An FAQ entry with this question already exists."), code="faq_question_taken"
        ) from exc
    return entry


def faq_entry_get(*, community_id: str, entry_id: str) -> FaqEntry:
    """The entry of this community; 404 ``faq_entry_not_found`` otherwise."""
    entry = FaqEntry.objects.filter(community_id=community_id, pk=entry_id).first()
    if entry is None:
        raise NotFound(_("FAQ entry not found."), code="faq_entry_not_found")
    return entry


def faq_entry_create(
    *,
    actor: Membership,
    question: str,
    answer: str,
    keywords: list[str] | None = None,
    category: str = "",
    status: str = FaqStatus.PUBLISHED,
) -> FaqEntry:
    """Add an FAQ entry (published at once unless ``status`` is ``draft``). The admin tiers and
    holders of the publish-content capability. Texts are screened before anything is stored:
    risky refuses (400 ``content_risky``), "review" or an unreachable WeChat refuse with 400
    ``content_not_checked``. 409 ``faq_question_taken`` for a question the community has."""
    ensure(actor, Action.MANAGE_FAQ)
    fields = _clean(
        {
            "question": question,
            "answer": answer,
            "keywords": keywords or [],
            "category": category,
            "status": status,
        }
    )
    _screen(actor, fields)
    now = timezone.now()
    return _save(
        FaqEntry(
            community_id=actor.community_id,
            author_id=actor.user_id,
            created_at=now,
            updated_at=now,
            **fields,
        )
    )


def faq_entry_update(*, actor: Membership, entry_id: str, **fields: Any) -> FaqEntry:
    """Edit an FAQ entry; changed texts are screened again (as on creation)."""
    ensure(actor, Action.MANAGE_FAQ)
    unknown = set(fields) - EDITABLE
    if unknown:
        raise DomainError(_("This field cannot be changed."), field=sorted(unknown)[0])
    fields = _clean(fields)
    entry = faq_entry_get(community_id=actor.community_id, entry_id=entry_id)
    changed = {name: value for name, value in fields.items() if getattr(entry, name) != value}
    _screen(actor, changed)
    for name, value in changed.items():
        setattr(entry, name, value)
    entry.updated_at = timezone.now()
    return _save(entry)


def faq_entry_delete(*, actor: Membership, entry_id: str) -> None:
    """Delete an FAQ entry with its votes (and the keyword rules that answer with it)."""
    ensure(actor, Action.MANAGE_FAQ)
    faq_entry_get(community_id=actor.community_id, entry_id=entry_id).delete()


def faq_feedback_set(*, membership: Membership, entry_id: str, helpful: bool) -> FaqEntry:
    """My "was this helpful?" on a published entry: one vote per member and entry; a second
    vote replaces the first, the same vote again changes nothing (idempotent ``PUT``). The
    entry's counters are recounted under its row lock, taken first, so parallel votes never
    lose one. Muted members may vote too (it publishes nothing). Returns the entry with its
    counts and ``my_feedback``."""
    ensure(membership, Action.VIEW)
    with transaction.atomic():
        entry = lock_rows(
            FaqEntry.objects.filter(
                community_id=membership.community_id, pk=entry_id, status=FaqStatus.PUBLISHED
            )
        ).first()
        if entry is None:
            raise NotFound(_("FAQ entry not found."), code="faq_entry_not_found")
        FaqFeedback.objects.update_or_create(
            community_id=membership.community_id,
            entry=entry,
            member=membership,
            defaults={"helpful": helpful},
        )
        counts = FaqFeedback.objects.filter(
            community_id=membership.community_id, entry=entry
        ).aggregate(
            yes=Count("pk", filter=Q(helpful=True)), no=Count("pk", filter=Q(helpful=False))
        )
        FaqEntry.objects.filter(pk=entry.pk).update(
            helpful_yes=counts["yes"], helpful_no=counts["no"]
        )
    entry.helpful_yes, entry.helpful_no = counts["yes"], counts["no"]
    entry.my_feedback = helpful
    return entry


def faq_mark_served(*, community_id: str, source: str) -> None:
    """Count an answer as served when it came from an FAQ entry (``source`` ``faq:<id>``, as
    :func:`assistant.answering.reply_for` names it); anything else is ignored. The answering
    task calls it once per message, in the transaction that records the answer."""
    if not source.startswith("faq:"):
        return
    FaqEntry.objects.filter(community_id=community_id, pk=source[4:]).update(
        times_served=F("times_served") + 1
    )
