"""Helpers shared by the polls services: keys, the locked poll, who may manage it, the
finalize schedule."""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils.translation import gettext as _

from community.authz import Action, can
from community.errors import NotFound
from community.hashing import sha256_hex
from community.locking import lock_rows
from community.models import Membership
from moderation.selectors import without_held
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
    return sha256_hex(receipt)


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


def may_manage(actor: Membership | None, poll: Poll) -> bool:
    """The poll's author or a moderator and above (``community.authz`` decides, with the poll:
    a muted author or one who has not accepted the current group rules may not)."""
    return can(actor, Action.MANAGE_POLL, obj=poll)


def locked_poll(actor: Membership, poll_id: str) -> Poll:
    """The poll of ``actor``'s community, locked ``FOR NO KEY UPDATE`` until commit (votes wait
    at their guard; new ballots and options pointing at it do not). Call inside a transaction."""
    poll = lock_rows(Poll.objects.filter(pk=poll_id, community_id=actor.community_id)).first()
    if poll is None:
        raise NotFound(_("Poll not found."))
    return poll


def option_ids(poll: Poll) -> list[str]:
    """The poll's options in order, without those held back by moderation (a member's option
    WeChat's check did not pass): nobody votes for an option others cannot see."""
    options = Option.objects.filter(community_id=poll.community_id, poll_id=poll.pk)
    options = without_held(options, community_id=poll.community_id, target_kind="poll_option")
    return list(options.order_by("position", "created_at").values_list("id", flat=True))


def refresh_option_order(poll: Poll) -> None:
    """Store the option ids in poll order on the poll (call with the poll row locked, after
    any change to its options). Removing an option bumps the poll's ``shape_version``: a
    ballot validated against the old list may name it. Adding, moving or renaming one does
    not (a ballot that leaves an option out stays valid)."""
    ids = option_ids(poll)
    changes: dict = {"option_order": ids}
    if set(poll.option_order) - set(ids):
        poll.shape_version += 1
        changes["shape_version"] = poll.shape_version
    poll.option_order = ids
    Poll.objects.filter(pk=poll.pk).update(**changes)
