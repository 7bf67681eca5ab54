"""Helpers shared by the polls services: keys, the locked poll, who may manage it, the
finalize schedule."""

from __future__ import annotations

import hashlib
import logging

from django.db import transaction
from django.utils.translation import gettext as _

from community.authz import Action, can
from community.errors import NotFound
from community.models import Membership, MembershipStatus
from polls.models import (
    Option,
    Poll,
    PollStatus,
)

logger = logging.getLogger(__name__)

RECEIPT_MIN_LENGTH = 32
MAX_REMINDER_HOURS = 24 * 14
SCORE_LIMIT = 100
NOTIFY_CLOSED = "poll_closed"
NOTIFY_REMINDER = "poll_reminder"


# --- helpers --------------------------------------------------------------------------------
def hash_receipt(receipt: str) -> str:
    """SHA-256 of a secret-ballot receipt (receipts carry >= 128 random bits)."""
    return hashlib.sha256(receipt.encode()).hexdigest()


def poll_object_key(poll_id: str) -> str:
    return f"poll:{poll_id}"


def schedule_finalize(poll: Poll) -> None:
    """After commit, finalize a poll that is closed now (closed early, or edited to close in
    the past). A poll that closes later gets no task: its results are frozen by the first read
    after ``closes_at`` and its notifications by the polls sweep (``community/schedule.py``).
    Never an ETA at ``closes_at``: Celery on Redis redelivers unacknowledged ETA tasks after the
    visibility timeout, so a task due in days would run again and again."""
    from polls.tasks import poll_finalize_task

    if poll.status != PollStatus.CLOSED:
        return
    poll_id = poll.pk
    transaction.on_commit(lambda: poll_finalize_task.delay(poll_id), robust=True)


def may_manage(actor: Membership, poll: Poll) -> bool:
    """The poll's author (still an active member) or a moderator and above."""
    if actor is None:
        return False
    is_author = actor.user_id == poll.author_id and actor.status == MembershipStatus.ACTIVE
    return is_author or can(actor, Action.MODERATE)


def locked_poll(actor: Membership, poll_id: str) -> Poll:
    poll = (
        Poll.objects.select_for_update().filter(pk=poll_id, community_id=actor.community_id).first()
    )
    if poll is None:
        raise NotFound(_("Poll not found."))
    return poll


def option_ids(poll: Poll) -> list[str]:
    return list(
        Option.objects.filter(community_id=poll.community_id, poll_id=poll.pk)
        .order_by("position", "created_at")
        .values_list("id", flat=True)
    )


def refresh_option_order(poll: Poll) -> None:
    """Store the option ids in poll order on the poll (call with the poll row locked, after
    any change to its options)."""
    poll.option_order = option_ids(poll)
    Poll.objects.filter(pk=poll.pk).update(option_order=poll.option_order)
