"""Fixtures of the task-board tests: boards and tasks made through the services, roles made
as rows (the roles services are another engineer's), the content check faked as passing."""

from __future__ import annotations

import pytest

from community.models import Tier
from roles.models import Board, Role, RoleAssignment, Task
from roles.services import boards as board_services
from roles.services import tasks_edit

CHECK = "/wxa/msg_sec_check"


@pytest.fixture
def admin(make_member):
    return make_member(tier=Tier.ADMIN)


@pytest.fixture
def make_board(admin):
    """``make_board(columns=[...], actor=..., **fields)`` -> Board (default three columns)."""

    def make(actor=None, **kwargs) -> Board:
        kwargs.setdefault("title", "活动筹备")
        return board_services.board_create(actor=actor or admin[0], **kwargs)

    return make


@pytest.fixture
def make_task(admin):
    """``make_task(board, title=..., column=..., **fields)`` -> Task."""

    def make(board: Board, title: str = "任务", column=None, actor=None, **kwargs) -> Task:
        return tasks_edit.task_create(
            actor=actor or admin[0],
            board=board,
            title=title,
            column_id=column.pk if column is not None else None,
            **kwargs,
        )

    return make


def columns_of(board: Board) -> list:
    return list(board.columns.order_by("position"))


def order_of(column) -> list[str]:
    return list(
        Task.objects.filter(column=column).order_by("position").values_list("title", flat=True)
    )


def give_role(membership, *capabilities: str, name: str = "活动策划") -> Role:
    """A role with ``capabilities`` held by ``membership`` (an active assignment)."""
    role = Role.objects.create(
        community=membership.community, name=name, capabilities=list(capabilities)
    )
    RoleAssignment.objects.create(community=membership.community, role=role, membership=membership)
    return role


@pytest.fixture
def content_ok(wechat_server, settings):
    """WeChat's content check passes every text."""
    settings.WECHAT_CONTENT_CHECK = True
    wechat_server.expect_request(CHECK).respond_with_json(
        {"errcode": 0, "errmsg": "ok", "result": {"suggest": "pass", "label": 100}}
    )
    return wechat_server
