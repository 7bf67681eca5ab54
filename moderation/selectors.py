"""Reads of the moderation app."""

from __future__ import annotations

from django.db.models import CharField, Count, Exists, OuterRef, QuerySet
from django.db.models.functions import Cast

from community.models import Membership
from moderation.models import Case, Report


def case_list(*, actor: Membership, status: str | None) -> QuerySet[Case]:
    """The community's cases, newest first, with the number of reports (one query)."""
    qs = Case.objects.filter(community_id=actor.community_id).annotate(
        report_count=Count("reports")
    )
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-created_at", "-id")


def case_community(*, case_id: str) -> str | None:
    return Case.objects.filter(pk=case_id).values_list("community_id", flat=True).first()


def report_list_mine(*, actor: Membership) -> QuerySet[Report]:
    """My reports with their case's outcome (no moderator name)."""
    return (
        Report.objects.filter(community_id=actor.community_id, reporter_id=actor.user_id)
        .select_related("case")
        .order_by("-created_at", "-id")
    )


def without_held(qs: QuerySet, *, community_id: str, target_kind: str) -> QuerySet:
    """``qs`` without the objects held back from members (one anti-join in the same query)."""
    from moderation.models import ContentHold

    held = ContentHold.objects.filter(community_id=community_id, target_kind=target_kind).values(
        "target_id"
    )
    return qs.exclude(pk__in=held)


def held_exists(target_kind: str, ref: str = "pk", *, numeric: bool = False) -> Exists:
    """``EXISTS`` of a hold on the outer row (``ref`` names its id; ``numeric`` for integer
    ids, compared as text), for an annotation."""
    from moderation.models import ContentHold

    target = Cast(OuterRef(ref), CharField()) if numeric else OuterRef(ref)
    return Exists(
        ContentHold.objects.filter(
            community_id=OuterRef("community_id"), target_kind=target_kind, target_id=target
        )
    )
