"""Every write of the polls app: one keyword-only function per use case.

Lock order (always the same, so concurrent writes cannot deadlock): the member's own row
(``Ballot`` or ``Participation``), then the ``SecretBallot``, then ``Tally`` rows in key order,
then the ``Poll`` row last (a conditional ``UPDATE`` that doubles as the "still open" guard).
Services that only change the poll (close, reopen, finalize, add option) lock the poll alone.
Mixing a secret poll's ballot box locks the poll first, then writes ballots and tallies; no vote
of a secret poll touches those, so the two orders cannot deadlock. Publishing a secret poll's
box (``publication``) locks the poll alone, like the mix it may run, then reads its ballots.
Side effects (Celery tasks) are enqueued with ``transaction.on_commit``.
"""

from polls.services.ballots import (
    CastResult,
    ballot_cast,
    ballot_withdraw,
    check_open,
    check_participant,
    poll_ensure_eligible,
)
from polls.services.common import (
    MAX_REMINDER_HOURS,
    NOTIFY_CLOSED,
    NOTIFY_REMINDER,
    RECEIPT_MIN_LENGTH,
    SCORE_LIMIT,
    hash_receipt,
    locked_poll,
    may_manage,
    option_ids,
    poll_object_key,
    refresh_option_order,
    schedule_finalize,
)
from polls.services.finalize import poll_finalize_on_read
from polls.services.lifecycle import (
    poll_close,
    poll_finalize,
    poll_remind,
    poll_reopen,
    polls_due_for_finalize,
    polls_record_eligible,
    polls_remind_due,
)
from polls.services.mixing import box_mix_locked, poll_box_mix, polls_box_mix_due
from polls.services.options import (
    option_add,
    option_delete,
    option_update,
)
from polls.services.polls import (
    EDITABLE_ALWAYS,
    EDITABLE_BEFORE_VOTES,
    poll_create,
    poll_update,
    slot_label,
)
from polls.services.publication import poll_ballot_box_publish

__all__ = [
    "MAX_REMINDER_HOURS",
    "NOTIFY_CLOSED",
    "NOTIFY_REMINDER",
    "RECEIPT_MIN_LENGTH",
    "SCORE_LIMIT",
    "hash_receipt",
    "locked_poll",
    "may_manage",
    "option_ids",
    "poll_object_key",
    "refresh_option_order",
    "schedule_finalize",
    "EDITABLE_ALWAYS",
    "EDITABLE_BEFORE_VOTES",
    "poll_create",
    "poll_update",
    "slot_label",
    "box_mix_locked",
    "poll_box_mix",
    "polls_box_mix_due",
    "option_add",
    "option_delete",
    "option_update",
    "CastResult",
    "ballot_cast",
    "ballot_withdraw",
    "check_open",
    "check_participant",
    "poll_ensure_eligible",
    "poll_close",
    "poll_finalize",
    "poll_finalize_on_read",
    "poll_remind",
    "poll_reopen",
    "polls_due_for_finalize",
    "polls_record_eligible",
    "polls_remind_due",
    "poll_ballot_box_publish",
]
