"""The board invariants in the database, on both paths (model validation and the constraint
itself), and the pure position arithmetic."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from roles.models import Column, SlotClaim, Task, TaskAssignee
from roles.positions import GAP, LIMIT, between, spread
from tests.boards.conftest import columns_of

pytestmark = pytest.mark.django_db


def test_between_takes_the_midpoint_and_says_when_the_gap_is_gone():
    assert between(None, None) == GAP
    assert between(GAP, None) == 2 * GAP
    assert between(None, GAP) == GAP // 2
    assert between(10, 20) == 15
    assert between(10, 11) is None
    assert between(LIMIT - 1, None) is None
    assert spread(3) == [GAP, 2 * GAP, 3 * GAP]


def test_two_tasks_at_one_position_are_refused_on_both_paths(make_board, make_task):
    board = make_board()
    a = make_task(board, title="A")
    clone = Task(
        community_id=a.community_id, board=board, column=a.column, position=a.position, title="B"
    )
    with pytest.raises(ValidationError):
        clone.full_clean()
    with pytest.raises(IntegrityError), transaction.atomic():
        clone.save(force_insert=True)


def test_slots_filled_past_total_is_refused_on_both_paths(make_board, make_task):
    task = make_task(make_board(), slots_total=1)
    task.slots_filled = 2
    with pytest.raises(ValidationError):
        task.full_clean()
    with pytest.raises(IntegrityError), transaction.atomic():
        task.save(update_fields=["slots_filled"])


def test_wip_limit_zero_is_refused_on_both_paths(make_board):
    column = columns_of(make_board())[0]
    column.wip_limit = 0
    with pytest.raises(ValidationError):
        column.full_clean()
    with pytest.raises(IntegrityError), transaction.atomic():
        Column.objects.filter(pk=column.pk).update(wip_limit=0)


def test_one_assignment_and_one_claim_per_member_and_task(make_board, make_task, admin):
    task = make_task(make_board(), slots_total=2, assignee_ids=[admin[0].user_id])
    with pytest.raises(IntegrityError), transaction.atomic():
        TaskAssignee.objects.create(community_id=task.community_id, task=task, user=admin[0].user)
    SlotClaim.objects.create(
        community_id=task.community_id, task=task, user=admin[0].user, status="waitlisted"
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        SlotClaim.objects.create(
            community_id=task.community_id, task=task, user=admin[0].user, status="waitlisted"
        )
