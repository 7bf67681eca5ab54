"""Comments on tasks: screened by WeChat's content check before anyone sees them (outside any
transaction: no network call while rows are locked), then stored with the activity entry and
the mention notifications in one transaction."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.utils.translation import gettext as _

from community.authz import Action, ensure
from community.errors import DomainError
from community.models import Membership, User
from community.services.content import SCENE_COMMENT, content_hold_for_review, content_screen
from community.text import member_text
from insights import recording
from roles.models import ActivityVerb, Task, TaskComment
from roles.services.boards import activity_record
from roles.services.tasks_edit import clean_assignees
from roles.services.tasks_notify import notify_mentioned

MAX_MENTIONS = 20


def comment_create(
    *, actor: Membership, task: Task, body: str, mention_ids: Iterable[str] = ()
) -> TaskComment:
    """Comment on a task of a board the member sees (every member who may take part; muted
    members and those who have not accepted the rules may not). ``mention_ids`` (members of
    the community) are notified once. 400 ``content_risky`` when WeChat refuses the text; a
    "review" verdict or an unreachable WeChat stores it hidden, in the moderation queue."""
    ensure(actor, Action.PARTICIPATE)
    body = member_text(body, field="body", multiline=True, max_length=2000)
    mentions = [m for m in dict.fromkeys(mention_ids) if m != actor.user_id]
    if len(mentions) > MAX_MENTIONS:
        raise DomainError(
            _("A comment mentions at most %(n)d members.") % {"n": MAX_MENTIONS},
            code="too_many_mentions",
            field="mention_ids",
        )
    mentions = clean_assignees(task.community_id, mentions, field="mention_ids")
    user = actor.user if isinstance(actor.user, User) else User.objects.get(pk=actor.user_id)
    verdict = content_screen(texts={"body": body}, user=user, scene=SCENE_COMMENT)
    with transaction.atomic():
        comment = TaskComment.objects.create(
            community_id=task.community_id,
            task_id=task.pk,
            author_id=actor.user_id,
            body=body,
            mentions=mentions,
        )
        if content_hold_for_review(
            verdict=verdict,
            community_id=task.community_id,
            target_kind="task_comment",
            target_id=comment.pk,
            author_id=actor.user_id,
        ):
            comment.author = user
            return comment  # hidden until a moderator restores it: no activity, no mentions
        recording.activity_record(
            community_id=task.community_id, user_id=actor.user_id, kind="comment"
        )
        activity_record(
            actor=actor,
            board_id=task.board_id,
            community_id=task.community_id,
            task_id=task.pk,
            verb=ActivityVerb.COMMENTED,
            comment=comment.pk,
        )
        if mentions:
            notify_mentioned(
                task=task,
                comment_id=comment.pk,
                user_ids=mentions,
                author=user.nickname or user.username,
            )
    comment.author = user
    return comment
