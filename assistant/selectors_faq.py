"""Reads of the FAQ and the keyword rules; the query shape of each endpoint is decided here."""

from __future__ import annotations

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery, TextField
from django.db.models.functions import Cast
from django.utils.translation import gettext as _

from assistant.models import FaqEntry, FaqFeedback, FaqStatus, KeywordRule
from community.authz import Action, can
from community.errors import NotFound
from community.models import Membership
from community.text import normalize_text

#: Longest search text (characters) the in-app FAQ list accepts.
SEARCH_MAX = 50


def _with_my_feedback(qs: QuerySet[FaqEntry], viewer: Membership) -> QuerySet[FaqEntry]:
    mine = FaqFeedback.objects.filter(
        community_id=OuterRef("community_id"), entry_id=OuterRef("pk"), member_id=viewer.pk
    ).values("helpful")[:1]
    return qs.annotate(my_feedback=Subquery(mine))


def faq_list(
    *,
    viewer: Membership,
    q: str | None = None,
    category: str | None = None,
    status: str | None = None,
) -> QuerySet[FaqEntry]:
    """The community's FAQ entries with my vote (``my_feedback``) in one query per page.
    Members see published entries; the FAQ writers (``MANAGE_FAQ``) see drafts too and may
    filter by ``status``. ``q`` searches question, answer and keywords (case-insensitive);
    ``category`` keeps one category (``""``: entries without one)."""
    qs = FaqEntry.objects.filter(community_id=viewer.community_id)
    if can(viewer, Action.MANAGE_FAQ):
        if status:
            qs = qs.filter(status=status)
    else:
        qs = qs.filter(status=FaqStatus.PUBLISHED)
    if category is not None:
        qs = qs.filter(category=normalize_text(category))
    text = normalize_text(q or "")[:SEARCH_MAX]
    if text:
        qs = qs.annotate(keywords_text=Cast("keywords", TextField())).filter(
            Q(question__icontains=text)
            | Q(answer__icontains=text)
            | Q(keywords_text__icontains=text)
        )
    return _with_my_feedback(qs, viewer)


def faq_entry_for(*, viewer: Membership, entry_id: str) -> FaqEntry:
    """One entry as ``viewer`` may see it (drafts only for the FAQ writers); 404 otherwise."""
    entry = faq_list(viewer=viewer).filter(pk=entry_id).first()
    if entry is None:
        raise NotFound(_("FAQ entry not found."), code="faq_entry_not_found")
    return entry


def faq_categories(*, viewer: Membership) -> list[dict]:
    """The categories of the published entries with how many each holds (``""``: none), in
    alphabetical order: the filter chips of the in-app FAQ. One query."""
    rows = (
        FaqEntry.objects.filter(community_id=viewer.community_id, status=FaqStatus.PUBLISHED)
        .values("category")
        .annotate(count=Count("pk"))
        .order_by("category")
    )
    return [{"category": row["category"], "count": row["count"]} for row in rows]


def keyword_rule_list(*, actor: Membership) -> QuerySet[KeywordRule]:
    """The community's keyword rules (the caller checked ``MANAGE_FAQ``)."""
    return KeywordRule.objects.filter(community_id=actor.community_id)
