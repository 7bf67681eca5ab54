"""Closing, reopening and finalizing polls, and reminding those who have not voted."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from community.errors import Conflict, DomainError, Forbidden
from community.locking import lock_rows
from community.models import Membership
from community.services.notifications import notification_enqueue_many
from community.timezones import localize
from moderation.services.holds import content_is_held
from polls.models import (
    Ballot,
    Participation,
    Poll,
    PollStatus,
)
from polls.selectors import non_voter_memberships
from polls.services.ballots import poll_ensure_eligible
from polls.services.common import (
    MAX_REMINDER_HOURS,
    NOTIFY_CLOSED,
    NOTIFY_REMINDER,
    locked_poll,
    may_manage,
    poll_object_key,
    schedule_finalize,
)
from polls.services.finalize import freeze_results
from polls.tally_store import poll_hold_open

logger = logging.getLogger(__name__)


# --- close, reopen, finalize ---------------------------------------------------------------
def poll_close(*, actor: Membership, poll_id: str) -> Poll:
    """Close a poll now (its author or a moderator); results are finalized after commit."""
    with transaction.atomic():
        poll = locked_poll(actor, poll_id)
        if not may_manage(actor, poll):
            raise Forbidden(
                _("Only the author or a moderator can close this poll."), code="cannot_manage"
            )
        if poll.status == PollStatus.CLOSED:
            raise Conflict(_("This poll is already closed."), code="poll_closed")
        poll.closed_at = timezone.now()
        poll.save(update_fields=["closed_at"])
        schedule_finalize(poll)
    return poll


def poll_reopen(*, actor: Membership, poll_id: str, closes_at: datetime | None = None) -> Poll:
    """Reopen a closed poll (its author or a moderator), clearing the frozen results.

    The closing time must lie in the future: keep the old one if it still does, else give a new
    one. Members are notified of the final close only once (the outbox key), even after a
    reopen and second close."""
    now = timezone.now()
    with transaction.atomic():
        poll = locked_poll(actor, poll_id)
        if not may_manage(actor, poll):
            raise Forbidden(
                _("Only the author or a moderator can reopen this poll."), code="cannot_manage"
            )
        if poll.status != PollStatus.CLOSED:
            raise Conflict(_("This poll is not closed."), code="poll_not_closed")
        if poll.box_published_at is not None:
            # A second publication after more votes would show which ballots changed.
            raise Conflict(
                _("This poll's ballot box has been published; it cannot be reopened."),
                code="ballot_box_published",
            )
        new_close = closes_at or poll.closes_at
        if new_close <= now or new_close <= poll.opens_at:
            raise DomainError(
                _("Give a new closing time in the future to reopen this poll."),
                code="closes_in_past",
                field="closes_at",
            )
        poll.closed_at = None
        poll.closes_at = new_close
        poll.final_results = None
        poll.finalized_at = None
        poll.close_notified_at = None
        poll.save(
            update_fields=[
                "closed_at",
                "closes_at",
                "final_results",
                "finalized_at",
                "close_notified_at",
            ]
        )
        schedule_finalize(poll)
    return poll


def poll_finalize(*, poll_id: str, now: datetime | None = None) -> bool:
    """Freeze the final results of a closed poll (unless a read froze them already) and queue
    the close notifications to its author and voters, once.

    Safe to run any number of times and concurrently: the poll row is locked and a poll that is
    not closed yet, or whose notifications were queued (``close_notified_at``), is left alone;
    notifications go in with one insert, deduplicated by the outbox's dedupe key
    (``poll_closed:poll:<id>``). Returns True when this call froze the results or queued the
    notifications."""
    now = now or timezone.now()
    with transaction.atomic():
        poll = lock_rows(Poll.objects.filter(pk=poll_id)).first()
        if poll is None or poll.status_at(now) != PollStatus.CLOSED:
            return False
        froze = freeze_results(poll, now)
        if poll.close_notified_at is not None:
            return froze
        scope = {"community_id": poll.community_id, "poll_id": poll.pk}
        recipients = set(
            Participation.objects.filter(**scope).values_list("user_id", flat=True)
            if poll.secret
            else Ballot.objects.filter(**scope).values_list("voter_id", flat=True)
        )
        if poll.author_id:
            recipients.add(poll.author_id)
        notification_enqueue_many(
            community_id=poll.community_id,
            recipient_ids=recipients,
            kind=NOTIFY_CLOSED,
            object_key=poll_object_key(poll.pk),
            data={"thing1": poll.title[:20], "phrase2": _("Closed")},
            page=f"pages/polls/detail?id={poll.pk}",
        )
        Poll.objects.filter(pk=poll.pk).update(close_notified_at=now)
    logger.info("poll %s finalized", poll_id)
    return True


def polls_due_for_finalize(*, now: datetime | None = None, limit: int = 200) -> list[str]:
    """Closed polls without frozen results or without their close notifications (for the
    periodic sweep)."""
    return list(
        Poll.objects.with_status(PollStatus.CLOSED, now)
        .filter(Q(finalized_at__isnull=True) | Q(close_notified_at__isnull=True))
        .order_by("closes_at")
        .values_list("pk", flat=True)[:limit]
    )


def polls_record_eligible(*, now: datetime | None = None) -> int:
    """Record the electorate of polls that opened without one yet (sweep)."""
    now = now or timezone.now()
    polls = Poll.objects.filter(eligible_count__isnull=True, opens_at__lte=now)[:200]
    for poll in polls:
        poll_ensure_eligible(poll=poll, now=now)
    return len(polls)


def poll_remind(*, poll_id: str, now: datetime | None = None) -> int:
    """Queue a reminder for every active member who has not voted in an open poll; the
    outbox's dedupe key makes it once per member and poll. Returns how many were queued now.

    The rule with a close racing it: no reminder is committed after the close. The reminders
    go in with one insert that skips members already reminded, without any lock on the poll;
    the last statement before commit is the "still open" guard, which share-locks the poll
    row until commit. A close committed before it (or in progress, which the guard waits
    for) makes the guard fail and the reminders roll back; a close that comes later waits
    for this commit, so the reminders were queued while the poll was open."""
    now = now or timezone.now()
    poll = Poll.objects.select_related("community").filter(pk=poll_id).first()
    if poll is None or poll.status_at(now) != PollStatus.OPEN:
        return 0
    if content_is_held(community_id=poll.community_id, target_kind="poll", target_id=poll.pk):
        return 0  # its title is not shown before moderation releases it (then the sweep does)
    data = {
        "thing1": poll.title[:20],
        "time2": localize(poll.closes_at, poll.community).strftime("%Y-%m-%d %H:%M"),
    }
    with transaction.atomic():
        queued = notification_enqueue_many(
            community_id=poll.community_id,
            recipient_ids=non_voter_memberships(poll=poll).values_list("user_id", flat=True),
            kind=NOTIFY_REMINDER,
            object_key=poll_object_key(poll.pk),
            data=data,
            page=f"pages/polls/detail?id={poll.pk}",
        )
        if queued and not poll_hold_open(poll_id=poll.pk, now=now):
            transaction.set_rollback(True)  # closed meanwhile: queue nothing
            return 0
    return len(queued)


def polls_remind_due(*, now: datetime | None = None) -> int:
    """Sweep: remind non-voters of open polls whose reminder window has started."""
    now = now or timezone.now()
    candidates = (
        Poll.objects.with_status(PollStatus.OPEN, now)
        .filter(reminder_hours__gt=0, closes_at__lte=now + timedelta(hours=MAX_REMINDER_HOURS))
        .values_list("pk", "closes_at", "reminder_hours")
    )
    queued = 0
    for poll_id, closes_at, hours in candidates:
        if closes_at - timedelta(hours=hours) <= now:
            queued += poll_remind(poll_id=poll_id, now=now)
    return queued
