"""Where each kind of target lives and who is answerable for it (its author, or the member)."""

from __future__ import annotations

from django.apps import apps
from django.utils.translation import gettext as _

from community.errors import NotFound
from moderation.models import TargetKind

#: kind -> (model label, field naming the member answerable for it)
TARGETS: dict[str, tuple[str, str]] = {
    TargetKind.MEMBER: ("community.Membership", "user_id"),
    TargetKind.POLL: ("polls.Poll", "author_id"),
    TargetKind.EVENT: ("events.Event", "author_id"),
    TargetKind.TASK_COMMENT: ("roles.TaskComment", "author_id"),
    TargetKind.ANNOUNCEMENT: ("announcements.Announcement", "author_id"),
}


def target_subject(*, community_id: str, target_kind: str, target_id: str) -> str:
    """The user id answerable for the target; 404 when the target is not in this community."""
    label, field = TARGETS[target_kind]
    model = apps.get_model(label)
    subject = (
        model.objects.filter(community_id=community_id, pk=target_id)
        .values_list(field, flat=True)
        .first()
    )
    if subject is None:
        raise NotFound(_("The reported content or member was not found."), code="target_not_found")
    return subject
