"""HTTP layer of the task boards: thin views over ``roles.services`` and
``roles.selectors_boards``. Times are rendered in the board's community time zone."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import exceptions, status
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from community.authz import Action, can, require, visible_membership
from community.bound_serializers import represent, validated
from community.errors import NotFound
from community.pagination import CursorPagination
from community.throttling import WriteThrottle
from community.timezones import community_time
from roles import selectors_boards as selectors
from roles.models import Board, Task
from roles.serializers_boards import (
    ActivityOut,
    BoardCardOut,
    BoardCreateIn,
    BoardDetailOut,
    BoardUpdateIn,
    ChecklistItemIn,
    ChecklistItemOut,
    ChecklistItemUpdateIn,
    ColumnIn,
    ColumnOut,
    ColumnUpdateIn,
    CommentIn,
    CommentOut,
    EventBoardIn,
    MyTaskOut,
    SlotClaimOut,
    TaskCardOut,
    TaskCreateIn,
    TaskMovedOut,
    TaskMoveIn,
    TaskOut,
    TaskStaleErrorOut,
    TaskUpdateIn,
)
from roles.services import boards as board_services
from roles.services import boards_templates as templates
from roles.services import tasks_comments, tasks_edit, tasks_move, tasks_slots

TAGS = ["boards"]


def _path(name: str, what: str) -> OpenApiParameter:
    return OpenApiParameter(name, str, OpenApiParameter.PATH, description=what)


_BOARD_ID = _path("board_id", gettext_lazy("Board id"))
_TASK_ID = _path("task_id", gettext_lazy("Task id"))
_COLUMN_ID = _path("column_id", gettext_lazy("Column id"))
_ITEM_ID = _path("item_id", gettext_lazy("Checklist item id"))


class NewestFirst(CursorPagination):
    ordering = ("-created_at", "-id")


class ByDueDate(CursorPagination):
    """ "My tasks": soonest due first, undated last."""

    ordering = ("due_sort", "id")


def _board_body(board: Board, membership) -> dict:
    columns, tasks = selectors.board_read(board=board)
    by_column: dict[str, list[Task]] = {column.pk: [] for column in columns}
    for task in tasks:
        by_column[task.column_id].append(task)
    board.task_count = len(tasks)
    body = BoardCardOut(board).data
    body["columns"] = [
        {**ColumnOut(column).data, "tasks": _cards(by_column[column.pk])} for column in columns
    ]
    body["my"] = {
        "can_edit": selectors.is_board_editor(membership),
        "can_comment": can(membership, Action.PARTICIPATE),
    }
    return body


def _cards(tasks: list[Task]) -> list:
    return TaskCardOut(tasks, many=True).data


def _board_response(board: Board, membership, *, status_code: int = 200) -> Response:
    with community_time(membership.community):
        return Response(_board_body(board, membership), status=status_code)


def _task_body(task: Task, membership) -> dict:
    selectors.task_detail(task=task)
    mine = next((c for c in task.claims if c.user_id == membership.user_id), None)
    assigned = membership.user_id in task.assignee_user_ids()
    my = {
        "can_edit": selectors.is_board_editor(membership),
        "can_move": can(membership, Action.MOVE_TASK, obj=task),
        "can_take": bool(task.owning_role_id)
        and not assigned
        and selectors.holds_role(membership=membership, role_id=task.owning_role_id),
        "slot_status": mine.status if mine else None,
    }
    return TaskOut(task, context={"my": my}).data


def _task_response(task: Task, membership, *, status_code: int = 200) -> Response:
    with community_time(membership.community):
        return Response(_task_body(task, membership), status=status_code)


BOARD_CREATE_EXAMPLE = OpenApiExample(
    "Event board",
    value={
        "title": "周六徒步筹备",
        "visibility": "members",
        "columns": [
            {"title": "待办"},
            {"title": "进行中", "wip_limit": 3},
            {"title": "完成", "is_done": True},
        ],
    },
    request_only=True,
)


# --- boards ---------------------------------------------------------------------------------
class BoardListView(GenericAPIView):
    pagination_class = NewestFirst
    serializer_class = BoardCardOut
    throttle_classes = [WriteThrottle]

    @extend_schema(
        operation_id="listBoards",
        tags=TAGS,
        summary=gettext_lazy("Boards of a community"),
        description=(
            gettext_lazy(
                "The boards I can see, newest first (team-only boards only to their team: board "
                "editors, holders of the board's team role and assignees of its tasks)."
            )
        ),
        responses={200: BoardCardOut(many=True)},
    )
    def get(self, request, community_id: str):
        viewer = visible_membership(request.user, community_id)
        page = self.paginate_queryset(selectors.board_list(viewer=viewer))
        with community_time(viewer.community):
            return self.get_paginated_response(BoardCardOut(page, many=True).data)

    @extend_schema(
        operation_id="createBoard",
        tags=TAGS,
        summary=gettext_lazy("Create a board"),
        description=(
            gettext_lazy(
                "Board editors: the admin tiers and holders of a role with the “manage boards” "
                "capability. Without `columns` the board gets To do / In progress / Done."
            )
        ),
        request=BoardCreateIn,
        responses={201: BoardDetailOut},
        examples=[BOARD_CREATE_EXAMPLE],
    )
    def post(self, request, community_id: str):
        actor = require(request.user, community_id, Action.VIEW)
        data = BoardCreateIn(data=request.data)
        data.is_valid(raise_exception=True)
        board = board_services.board_create(actor=actor, **data.validated_data)
        return _board_response(board, actor, status_code=status.HTTP_201_CREATED)


class BoardDetailView(APIView):
    throttle_classes = [WriteThrottle]

    @extend_schema(
        operation_id="getBoard",
        tags=TAGS,
        summary=gettext_lazy("The whole board"),
        description=(
            gettext_lazy(
                "Every column with every task card in order, in a fixed number of queries whatever "
                "the board's size. 404 for boards of other communities and team boards I am not in."
            )
        ),
        parameters=[_BOARD_ID],
        responses={200: BoardDetailOut},
    )
    def get(self, request, board_id: str):
        board, membership = selectors.board_for_member(user=request.user, board_id=board_id)
        return _board_response(board, membership)

    @extend_schema(
        operation_id="updateBoard",
        tags=TAGS,
        summary=gettext_lazy("Edit a board"),
        description=gettext_lazy("Title, description, visibility, team role. Board editors only."),
        parameters=[_BOARD_ID],
        request=BoardUpdateIn,
        responses={200: BoardDetailOut},
    )
    def patch(self, request, board_id: str):
        board, membership = selectors.board_for_member(user=request.user, board_id=board_id)
        data = BoardUpdateIn(data=request.data)
        data.is_valid(raise_exception=True)
        board = board_services.board_update(actor=membership, board=board, **data.validated_data)
        return _board_response(board, membership)

    @extend_schema(
        operation_id="deleteBoard",
        tags=TAGS,
        summary=gettext_lazy("Delete a board"),
        description=gettext_lazy("With its columns, tasks and activity log. Board editors only."),
        parameters=[_BOARD_ID],
        request=None,
        responses={204: None},
    )
    def delete(self, request, board_id: str):
        board, membership = selectors.board_for_member(user=request.user, board_id=board_id)
        board_services.board_delete(actor=membership, board=board)
        return Response(status=status.HTTP_204_NO_CONTENT)


class BoardColumnsView(APIView):
    throttle_classes = [WriteThrottle]

    @extend_schema(
        operation_id="addBoardColumn",
        tags=TAGS,
        summary=gettext_lazy("Add a column"),
        description=gettext_lazy(
            "At the right end; `wip_limit` caps the tasks it may hold. Editors only."
        ),
        parameters=[_BOARD_ID],
        request=ColumnIn,
        responses={201: ColumnOut},
    )
    def post(self, request, board_id: str):
        board, membership = selectors.board_for_member(user=request.user, board_id=board_id)
        data = ColumnIn(data=request.data)
        data.is_valid(raise_exception=True)
        column = board_services.column_create(actor=membership, board=board, **data.validated_data)
        return Response(ColumnOut(column).data, status=status.HTTP_201_CREATED)


class ColumnDetailView(APIView):
    throttle_classes = [WriteThrottle]

    @extend_schema(
        operation_id="updateBoardColumn",
        tags=TAGS,
        summary=gettext_lazy("Edit a column"),
        description=(
            gettext_lazy(
                "Rename it, change its WIP limit or done flag, or move it (`position`: its index). "
                "Editors only."
            )
        ),
        parameters=[_COLUMN_ID],
        request=ColumnUpdateIn,
        responses={200: ColumnOut},
    )
    def patch(self, request, column_id: str):
        column, membership = selectors.column_for_member(user=request.user, column_id=column_id)
        data = ColumnUpdateIn(data=request.data)
        data.is_valid(raise_exception=True)
        column = board_services.column_update(
            actor=membership, column=column, **data.validated_data
        )
        return Response(ColumnOut(column).data)

    @extend_schema(
        operation_id="deleteBoardColumn",
        tags=TAGS,
        summary=gettext_lazy("Delete an empty column"),
        description=gettext_lazy("409 `column_not_empty` while it holds tasks. Editors only."),
        parameters=[_COLUMN_ID],
        request=None,
        responses={204: None},
    )
    def delete(self, request, column_id: str):
        column, membership = selectors.column_for_member(user=request.user, column_id=column_id)
        board_services.column_delete(actor=membership, column=column)
        return Response(status=status.HTTP_204_NO_CONTENT)


class EventBoardView(APIView):
    throttle_classes = [WriteThrottle]

    @extend_schema(
        operation_id="createEventBoard",
        tags=TAGS,
        summary=gettext_lazy("Create the preparation board of an event"),
        description=(
            gettext_lazy(
                "From the event template: tasks due relative to the event's start (poster 7 days "
                "before, reminder 1 day before, check-in on the day), owned by `owning_role_id` "
                "if given. One board per event (409 `event_has_board`). Board editors only."
            )
        ),
        parameters=[_path("event_id", gettext_lazy("Event id"))],
        request=EventBoardIn,
        responses={201: BoardDetailOut},
    )
    def post(self, request, event_id: str):
        community_id = selectors.event_community_id(event_id=event_id)
        actor = require(request.user, community_id, Action.VIEW)
        data = EventBoardIn(data=request.data or {})
        data.is_valid(raise_exception=True)
        board = templates.board_create_for_event(
            actor=actor, event_id=event_id, **data.validated_data
        )
        return _board_response(board, actor, status_code=status.HTTP_201_CREATED)


# --- tasks ----------------------------------------------------------------------------------
class BoardTasksView(APIView):
    throttle_classes = [WriteThrottle]

    @extend_schema(
        operation_id="createTask",
        tags=TAGS,
        summary=gettext_lazy("Create a task"),
        description=(
            gettext_lazy(
                "At the bottom of `column_id` (default: the first column). 409 "
                "`wip_limit_reached` when the column is full. Assignees are notified. Editors only."
            )
        ),
        parameters=[_BOARD_ID],
        request=TaskCreateIn,
        responses={201: TaskOut},
        examples=[
            OpenApiExample(
                "Volunteers wanted",
                value={
                    "title": "需要3人搬物资",
                    "due_at": "2026-06-06T09:00:00+08:00",
                    "labels": ["物资"],
                    "slots_total": 3,
                },
                request_only=True,
            )
        ],
    )
    def post(self, request, board_id: str):
        board, membership = selectors.board_for_member(user=request.user, board_id=board_id)
        data = TaskCreateIn(data=request.data)
        with community_time(membership.community):
            data.is_valid(raise_exception=True)
        task = tasks_edit.task_create(actor=membership, board=board, **data.validated_data)
        task, membership = selectors.task_for_member(user=request.user, task_id=task.pk)
        return _task_response(task, membership, status_code=status.HTTP_201_CREATED)


class TaskDetailView(APIView):
    throttle_classes = [WriteThrottle]

    @extend_schema(
        operation_id="getTask",
        tags=TAGS,
        summary=gettext_lazy("A task"),
        description=gettext_lazy("With its checklist, volunteers and what I may do."),
        parameters=[_TASK_ID],
        responses={200: TaskOut},
    )
    def get(self, request, task_id: str):
        task, membership = selectors.task_for_member(user=request.user, task_id=task_id)
        return _task_response(task, membership)

    @extend_schema(
        operation_id="updateTask",
        tags=TAGS,
        summary=gettext_lazy("Edit a task"),
        description=(
            gettext_lazy(
                "Send the `version` the edit was made on; when the task changed since, 409 "
                "`task_version_stale` answers with the current task in `current` (review and "
                "resend). New assignees are notified. Editors only."
            )
        ),
        parameters=[_TASK_ID],
        request=TaskUpdateIn,
        responses={200: TaskOut, 409: TaskStaleErrorOut},
    )
    def patch(self, request, task_id: str):
        task, membership = selectors.task_for_member(user=request.user, task_id=task_id)
        data = TaskUpdateIn(data=request.data)
        with community_time(membership.community):
            data.is_valid(raise_exception=True)
        changes = dict(data.validated_data)
        version = changes.pop("version")
        try:
            tasks_edit.task_update(actor=membership, task=task, version=version, **changes)
        except tasks_edit.TaskVersionConflict as stale:
            current, membership = selectors.task_for_member(user=request.user, task_id=task_id)
            error = {"code": stale.code, "detail": stale.message, "attr": None}
            with community_time(membership.community):
                body = {
                    "type": "client_error",
                    "errors": [error],
                    "current": _task_body(current, membership),
                }
            return Response(body, status=status.HTTP_409_CONFLICT)
        task, membership = selectors.task_for_member(user=request.user, task_id=task_id)
        return _task_response(task, membership)

    @extend_schema(
        operation_id="deleteTask",
        tags=TAGS,
        summary=gettext_lazy("Delete a task"),
        description=gettext_lazy("Its log entries stay. Editors only."),
        parameters=[_TASK_ID],
        request=None,
        responses={204: None},
    )
    def delete(self, request, task_id: str):
        task, membership = selectors.task_for_member(user=request.user, task_id=task_id)
        tasks_edit.task_delete(actor=membership, task=task)
        return Response(status=status.HTTP_204_NO_CONTENT)


class TaskMoveView(APIView):
    throttle_classes = [WriteThrottle]

    @extend_schema(
        operation_id="moveTask",
        tags=TAGS,
        summary=gettext_lazy("Move a task"),
        description=(
            gettext_lazy(
                "Into `column_id` (default: its own), right after `after_id`, right before "
                "`before_id`, at `index`, or at the bottom. Editors and the task's assignees. "
                "Parallel moves never put two tasks at one position nor lose one. 409 "
                "`wip_limit_reached` (the target column is at its WIP limit), "
                "`neighbour_not_in_column` (reload the board). A move does not change the task's "
                "`version` (that guards its content)."
            )
        ),
        parameters=[_TASK_ID],
        request=TaskMoveIn,
        responses={200: TaskMovedOut},
        examples=[
            OpenApiExample(
                "Between two cards",
                value={"column_id": "Rt7uV2wXy3Cd", "after_id": "Hk3mP9xQa2Zb"},
                request_only=True,
            )
        ],
    )
    def post(self, request, task_id: str):
        task, membership = selectors.task_for_member(user=request.user, task_id=task_id)
        data = validated(TaskMoveIn, request.data)
        moved = tasks_move.task_move(actor=membership, task=task, **data)
        return Response(represent(TaskMovedOut, moved))


class TaskTakeView(APIView):
    throttle_classes = [WriteThrottle]

    @extend_schema(
        operation_id="takeTask",
        tags=TAGS,
        summary=gettext_lazy("Take a task of my role"),
        description=(
            gettext_lazy(
                "A holder of the task's owning role becomes its assignee (idempotent). 403 "
                "`not_role_holder` for anyone else."
            )
        ),
        parameters=[_TASK_ID],
        request=None,
        responses={200: TaskOut},
    )
    def post(self, request, task_id: str):
        task, membership = selectors.task_for_member(user=request.user, task_id=task_id)
        tasks_edit.task_take(actor=membership, task=task)
        task, membership = selectors.task_for_member(user=request.user, task_id=task_id)
        return _task_response(task, membership)


# --- checklist ------------------------------------------------------------------------------
class TaskChecklistView(APIView):
    throttle_classes = [WriteThrottle]

    @extend_schema(
        operation_id="addChecklistItem",
        tags=TAGS,
        summary=gettext_lazy("Add a checklist item"),
        description=gettext_lazy("A step with its own assignee and due date. Editors only."),
        parameters=[_TASK_ID],
        request=ChecklistItemIn,
        responses={201: ChecklistItemOut},
    )
    def post(self, request, task_id: str):
        task, membership = selectors.task_for_member(user=request.user, task_id=task_id)
        data = ChecklistItemIn(data=request.data)
        with community_time(membership.community):
            data.is_valid(raise_exception=True)
        item = tasks_edit.checklist_item_add(actor=membership, task=task, **data.validated_data)
        with community_time(membership.community):
            return Response(ChecklistItemOut(item).data, status=status.HTTP_201_CREATED)


class ChecklistItemView(APIView):
    throttle_classes = [WriteThrottle]

    @extend_schema(
        operation_id="updateChecklistItem",
        tags=TAGS,
        summary=gettext_lazy("Tick or edit a checklist item"),
        description=(
            gettext_lazy(
                "`done`: editors and the task's or the item's assignees. Title, assignee, due "
                "date: editors only."
            )
        ),
        parameters=[_ITEM_ID],
        request=ChecklistItemUpdateIn,
        responses={200: ChecklistItemOut},
    )
    def patch(self, request, item_id: str):
        item, membership = selectors.checklist_item_for_member(user=request.user, item_id=item_id)
        data = ChecklistItemUpdateIn(data=request.data)
        with community_time(membership.community):
            data.is_valid(raise_exception=True)
        item = tasks_edit.checklist_item_update(actor=membership, item=item, **data.validated_data)
        with community_time(membership.community):
            return Response(ChecklistItemOut(item).data)

    @extend_schema(
        operation_id="deleteChecklistItem",
        tags=TAGS,
        summary=gettext_lazy("Delete a checklist item"),
        description=gettext_lazy("Editors only."),
        parameters=[_ITEM_ID],
        request=None,
        responses={204: None},
    )
    def delete(self, request, item_id: str):
        item, membership = selectors.checklist_item_for_member(user=request.user, item_id=item_id)
        tasks_edit.checklist_item_delete(actor=membership, item=item)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- comments, slots, activity --------------------------------------------------------------
class TaskCommentsView(GenericAPIView):
    pagination_class = NewestFirst
    serializer_class = CommentOut
    throttle_classes = [WriteThrottle]

    @extend_schema(
        operation_id="listTaskComments",
        tags=TAGS,
        summary=gettext_lazy("Comments on a task"),
        description=gettext_lazy("Newest first, cursor-paginated."),
        parameters=[_TASK_ID],
        responses={200: CommentOut(many=True)},
    )
    def get(self, request, task_id: str):
        task, membership = selectors.task_for_member(user=request.user, task_id=task_id)
        page = self.paginate_queryset(selectors.task_comments(task=task))
        with community_time(membership.community):
            return self.get_paginated_response(CommentOut(page, many=True).data)

    @extend_schema(
        operation_id="commentOnTask",
        tags=TAGS,
        summary=gettext_lazy("Comment on a task"),
        description=(
            gettext_lazy(
                "Every member who sees the board (not muted, group rules accepted). The text "
                "passes WeChat's content check first (400 `content_risky`). `mention_ids` "
                "(members) are notified once."
            )
        ),
        parameters=[_TASK_ID],
        request=CommentIn,
        responses={201: CommentOut},
    )
    def post(self, request, task_id: str):
        task, membership = selectors.task_for_member(user=request.user, task_id=task_id)
        data = CommentIn(data=request.data)
        data.is_valid(raise_exception=True)
        membership.user = request.user
        comment = tasks_comments.comment_create(
            actor=membership,
            task=task,
            body=data.validated_data["body"],
            mention_ids=data.validated_data.get("mention_ids", []),
        )
        with community_time(membership.community):
            return Response(CommentOut(comment).data, status=status.HTTP_201_CREATED)


class TaskSlotView(APIView):
    throttle_classes = [WriteThrottle]

    @extend_schema(
        operation_id="claimTaskSlot",
        tags=TAGS,
        summary=gettext_lazy("Volunteer for a task"),
        description=(
            gettext_lazy(
                "Confirmed while the task has a free slot, on its waitlist otherwise (in arrival "
                "order). Idempotent: volunteering again returns my claim. Never more confirmed "
                "volunteers than `slots_total`, whatever the concurrency. 409 `no_slots` when the "
                "task asks for no volunteers."
            )
        ),
        parameters=[_TASK_ID],
        request=None,
        responses={200: SlotClaimOut},
    )
    def put(self, request, task_id: str):
        task, membership = selectors.task_for_member(user=request.user, task_id=task_id)
        claim = tasks_slots.slot_claim(actor=membership, task=task)
        claim.user = request.user
        with community_time(membership.community):
            return Response(SlotClaimOut(claim).data)

    @extend_schema(
        operation_id="withdrawFromTaskSlot",
        tags=TAGS,
        summary=gettext_lazy("Withdraw my volunteering"),
        description=gettext_lazy(
            "A no-op without a claim; a confirmed slot goes to the first on the waitlist."
        ),
        parameters=[_TASK_ID],
        request=None,
        responses={204: None},
    )
    def delete(self, request, task_id: str):
        task, membership = selectors.task_for_member(user=request.user, task_id=task_id)
        tasks_slots.slot_withdraw(actor=membership, task=task)
        return Response(status=status.HTTP_204_NO_CONTENT)


class TaskActivityView(GenericAPIView):
    pagination_class = NewestFirst
    serializer_class = ActivityOut

    @extend_schema(
        operation_id="listTaskActivity",
        tags=TAGS,
        summary=gettext_lazy("Activity log of a task"),
        description=gettext_lazy("Every change of the task: who, what, when. Newest first."),
        parameters=[_TASK_ID],
        responses={200: ActivityOut(many=True)},
    )
    def get(self, request, task_id: str):
        task, membership = selectors.task_for_member(user=request.user, task_id=task_id)
        page = self.paginate_queryset(selectors.task_activity(task=task))
        with community_time(membership.community):
            return self.get_paginated_response(ActivityOut(page, many=True).data)


class BoardActivityView(GenericAPIView):
    pagination_class = NewestFirst
    serializer_class = ActivityOut

    @extend_schema(
        operation_id="listBoardActivity",
        tags=TAGS,
        summary=gettext_lazy("Activity log of a board"),
        description=gettext_lazy(
            "Every change on the board and its tasks: who, what, when. Newest first."
        ),
        parameters=[_BOARD_ID],
        responses={200: ActivityOut(many=True)},
    )
    def get(self, request, board_id: str):
        board, membership = selectors.board_for_member(user=request.user, board_id=board_id)
        page = self.paginate_queryset(selectors.board_activity(board=board))
        with community_time(membership.community):
            return self.get_paginated_response(ActivityOut(page, many=True).data)


class MyTasksView(GenericAPIView):
    pagination_class = ByDueDate
    serializer_class = MyTaskOut

    @extend_schema(
        operation_id="listMyTasks",
        tags=TAGS,
        summary=gettext_lazy("My tasks"),
        description=(
            gettext_lazy(
                "Open tasks assigned to me in all my communities (not in a done column), soonest "
                "due first, undated last; cursor-paginated. Times in each task's community zone."
            )
        ),
        responses={200: MyTaskOut(many=True)},
    )
    def get(self, request):
        try:
            page = self.paginate_queryset(selectors.my_tasks(user=request.user))
        except exceptions.NotFound:  # DRF's answer to a cursor it cannot decode
            raise NotFound(_("Invalid cursor."), code="invalid_cursor") from None
        selectors.attach_assignees(page)
        body = []
        for task in page:
            with community_time(task.community):
                body.append(MyTaskOut(task).data)
        return self.get_paginated_response(body)
