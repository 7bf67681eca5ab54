"""Volunteer slots: a task asks for ``slots_total`` helpers ("需要3人搬物资") and fills itself.

The sign-up rules of events: a claim is confirmed while the task has room, waitlisted (in
arrival order) otherwise; a withdrawal of a confirmed volunteer confirms the first on the
waitlist in the same transaction. Never more than ``slots_total`` confirmed, under any
concurrency: the task row is locked first (so claims and withdrawals of one task run one after
another, and a withdrawal never misses a claim committed meanwhile), the counter moves by a
guarded ``UPDATE ... WHERE slots_filled + 1 <= slots_total`` (the events' seat guard,
``events/seats.py``, reused) as the last statement that takes a seat, and the check constraint
``slots_filled <= slots_total`` backs it in the database."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from community.authz import Action, ensure
from community.errors import Conflict
from community.locking import lock_rows
from community.models import Membership
from events import seats
from events.seats import SeatCounter
from roles.models import ActivityVerb, SlotClaim, SlotStatus, Task
from roles.services.boards import activity_record, locked_task
from roles.services.tasks_notify import notify_slot_confirmed

#: The task's volunteer slots as a seat counter of the events' seat guard.
SLOTS = SeatCounter(table=Task._meta.db_table, taken="slots_filled", capacity="slots_total")


def take_slot(task: Task) -> bool:
    """The guarded counter (``events/seats.py``): one more confirmed volunteer if the task has
    room. Returns whether a slot was taken."""
    return seats.take(SLOTS, pk=task.pk, n=1) is not None


def slot_claim(*, actor: Membership, task: Task) -> SlotClaim:
    """Volunteer for ``task``: confirmed when it has room, else on its waitlist. Idempotent: a
    member who already volunteered gets their claim back. 409 ``no_slots`` when the task asks
    for no volunteers."""
    ensure(actor, Action.PARTICIPATE)
    if task.slots_total == 0:
        raise Conflict(_("This task does not ask for volunteers."), code="no_slots")
    with transaction.atomic():
        locked = locked_task(actor, task.pk)
        existing = SlotClaim.objects.filter(
            community_id=locked.community_id, task_id=locked.pk, user_id=actor.user_id
        ).first()
        if existing is not None:
            return existing
        claim = SlotClaim(
            community_id=locked.community_id,
            task=locked,
            user_id=actor.user_id,
            status=SlotStatus.WAITLISTED,
        )
        if take_slot(locked):
            claim.status = SlotStatus.CONFIRMED
            claim.confirmed_at = timezone.now()
        try:
            with transaction.atomic():
                claim.save(force_insert=True)
        except IntegrityError:  # pragma: no cover - the task lock serialises claims
            raise Conflict(_("You already volunteered."), code="already_claimed") from None
        activity_record(
            actor=actor,
            board_id=locked.board_id,
            community_id=locked.community_id,
            task_id=locked.pk,
            verb=(
                ActivityVerb.SLOT_CLAIMED
                if claim.status == SlotStatus.CONFIRMED
                else ActivityVerb.SLOT_WAITLISTED
            ),
        )
        if claim.status == SlotStatus.CONFIRMED:
            notify_slot_confirmed(task=locked, user_id=actor.user_id, claim_id=claim.pk)
    return claim


def promote_waitlisted(*, actor: Membership | None, task: Task) -> int:
    """Confirm waitlisted volunteers, first come first served, while the task has room. Call
    with the task locked. Returns how many were confirmed."""
    promoted = 0
    waiting = lock_rows(
        SlotClaim.objects.filter(
            community_id=task.community_id, task_id=task.pk, status=SlotStatus.WAITLISTED
        )
    ).order_by("created_at", "id")
    for claim in waiting:
        if not take_slot(task):
            break
        SlotClaim.objects.filter(pk=claim.pk).update(
            status=SlotStatus.CONFIRMED, confirmed_at=timezone.now()
        )
        activity_record(
            actor=actor,
            board_id=task.board_id,
            community_id=task.community_id,
            task_id=task.pk,
            verb=ActivityVerb.SLOT_PROMOTED,
            user=claim.user_id,
        )
        notify_slot_confirmed(task=task, user_id=claim.user_id, claim_id=claim.pk)
        promoted += 1
    return promoted


def slot_withdraw(*, actor: Membership, task: Task) -> None:
    """Withdraw my claim (a no-op without one); a confirmed slot goes to the first waitlisted
    volunteer. Muted members may withdraw too (it only gives a slot back)."""
    with transaction.atomic():
        locked = locked_task(actor, task.pk)
        claim = lock_rows(
            SlotClaim.objects.filter(
                community_id=locked.community_id, task_id=locked.pk, user_id=actor.user_id
            ),
            for_delete=True,
        ).first()
        if claim is None:
            return
        claim.delete()
        activity_record(
            actor=actor,
            board_id=locked.board_id,
            community_id=locked.community_id,
            task_id=locked.pk,
            verb=ActivityVerb.SLOT_WITHDRAWN,
        )
        if claim.status == SlotStatus.CONFIRMED:
            seats.release(SLOTS, pk=locked.pk, n=1)
            promote_waitlisted(actor=actor, task=locked)
