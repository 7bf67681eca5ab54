"""Publications held back by WeChat's check wait in the moderation queue as open cases."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from moderation.models import Case, CaseStatus, ContentHold
from moderation.services.holds import content_hold


def screening_hold(
    *, community_id: str, target_kind: str, target_id: str, author_id: str, unchecked: bool
) -> Case:
    """Hide the target and put it in the queue (an open case without reports). A moderator
    restores it (shown) or hides it for good (stays hidden) with ``case_decide``."""
    content_hold(
        community_id=community_id,
        target_kind=target_kind,
        target_id=target_id,
        why=ContentHold.Why.UNCHECKED if unchecked else ContentHold.Why.REVIEW,
    )
    try:
        with transaction.atomic():
            case, _created = Case.objects.get_or_create(
                community_id=community_id,
                target_kind=target_kind,
                target_id=target_id,
                status=CaseStatus.OPEN,
                defaults={"subject_id": author_id},
            )
    except IntegrityError:
        case = Case.objects.get(
            community_id=community_id,
            target_kind=target_kind,
            target_id=target_id,
            status=CaseStatus.OPEN,
        )
    return case
