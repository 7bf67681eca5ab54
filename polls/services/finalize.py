"""Freezing a closed poll's results: by the first read after the deadline, or by the task.

Results are final at the deadline whether or not a worker ran: the first request that sees a
poll past ``closes_at`` without frozen results freezes them itself. It never waits for a lock
(``FOR NO KEY UPDATE SKIP LOCKED``): if the poll row is busy (a ballot straddling the deadline,
a concurrent finalize) the request answers with live results, which the next read freezes.
Notifications are not sent from the read: it queues the finalize task right after commit,
and the polls sweep retries it if that task is lost (``close_notified_at``).
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from community.locking import lock_rows
from community.selectors import active_member_count
from polls.box_store import box_waiting
from polls.models import Poll, PollStatus
from polls.results import compute_results, tallies_of
from polls.services.common import option_ids
from polls.services.mixing import box_mix_locked


def freeze_results(poll: Poll, now: datetime) -> bool:
    """Store ``final_results`` of a closed poll once; call with the poll row locked (in a mode
    that conflicts with the ballot guard's ``UPDATE``/``FOR SHARE``, so every ballot that passed
    the guard has committed and later ones find ``finalized_at`` set and are refused).
    Returns True when it froze them now."""
    if poll.finalized_at is not None or poll.status_at(now) != PollStatus.CLOSED:
        return False
    if poll.secret:
        box_mix_locked(poll, everything=True)  # the last batch, however small
    poll.final_results = compute_results(poll, option_ids(poll), tallies_of(poll))
    poll.finalized_at = now
    if poll.eligible_count is None and poll.opens_at <= now:
        poll.eligible_count = active_member_count(community_id=poll.community_id)
    Poll.objects.filter(pk=poll.pk).update(
        final_results=poll.final_results,
        finalized_at=poll.finalized_at,
        eligible_count=poll.eligible_count,
    )
    return True


def _mix_on_read(poll: Poll) -> Poll:
    """An open secret poll whose box holds a complete batch (its after-commit task has not run
    yet, or there is no worker): mix it now, unless the poll row is busy (``SKIP LOCKED``: a
    voter or another mix holds it; the next read or the sweep mixes)."""
    if box_waiting([poll.pk]).get(poll.pk, 0) < poll.min_ballots_to_show:
        return poll
    with transaction.atomic():
        locked = lock_rows(Poll.objects.filter(pk=poll.pk), skip_locked=True).first()
        if locked is not None:
            box_mix_locked(locked)
    return poll


def poll_finalize_on_read(*, poll: Poll, now: datetime | None = None) -> Poll:
    """Freeze the results of ``poll`` if it is past its deadline and not frozen yet; return
    it with the frozen results when this or an earlier call froze them. An open secret poll
    whose ballot box holds a complete batch is mixed instead (see ``polls.services.mixing``).

    For every read of one poll (detail, results): costs no query unless the poll is closed and
    not finalized. Takes the poll row with ``SKIP LOCKED`` so a reader never queues behind a
    voter or another finalizer; when the row is busy the poll is returned as it was (live
    results this once). After commit it queues the finalize task at once (no ETA) for the
    close notifications, which the task queues once."""
    now = now or timezone.now()
    if poll.secret and poll.finalized_at is None and poll.status_at(now) == PollStatus.OPEN:
        return _mix_on_read(poll)
    if poll.finalized_at is not None or poll.status_at(now) != PollStatus.CLOSED:
        return poll
    from polls.tasks import poll_finalize_task

    with transaction.atomic():
        locked = lock_rows(Poll.objects.filter(pk=poll.pk), skip_locked=True).first()
        if locked is None:
            return poll
        if freeze_results(locked, now):
            poll_id, at = poll.pk, now.isoformat()
            transaction.on_commit(lambda: poll_finalize_task.delay(poll_id, at), robust=True)
    for field in ("final_results", "finalized_at", "eligible_count", "voter_count"):
        setattr(poll, field, getattr(locked, field))
    return poll
