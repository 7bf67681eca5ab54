"""URLs of the roles app under /api/v1/."""

from django.urls import path

from roles import api_boards

urlpatterns = [
    # --- task boards ---
    path(
        "communities/<str:community_id>/boards",
        api_boards.BoardListView.as_view(),
        name="board-list",
    ),
    path("boards/<str:board_id>", api_boards.BoardDetailView.as_view(), name="board-detail"),
    path(
        "boards/<str:board_id>/columns",
        api_boards.BoardColumnsView.as_view(),
        name="board-columns",
    ),
    path("boards/<str:board_id>/tasks", api_boards.BoardTasksView.as_view(), name="board-tasks"),
    path(
        "boards/<str:board_id>/activity",
        api_boards.BoardActivityView.as_view(),
        name="board-activity",
    ),
    path(
        "board-columns/<str:column_id>",
        api_boards.ColumnDetailView.as_view(),
        name="board-column-detail",
    ),
    path("tasks/<str:task_id>", api_boards.TaskDetailView.as_view(), name="task-detail"),
    path("tasks/<str:task_id>/move", api_boards.TaskMoveView.as_view(), name="task-move"),
    path("tasks/<str:task_id>/take", api_boards.TaskTakeView.as_view(), name="task-take"),
    path(
        "tasks/<str:task_id>/checklist",
        api_boards.TaskChecklistView.as_view(),
        name="task-checklist",
    ),
    path(
        "checklist-items/<str:item_id>",
        api_boards.ChecklistItemView.as_view(),
        name="checklist-item",
    ),
    path(
        "tasks/<str:task_id>/comments",
        api_boards.TaskCommentsView.as_view(),
        name="task-comments",
    ),
    path("tasks/<str:task_id>/slot", api_boards.TaskSlotView.as_view(), name="task-slot"),
    path(
        "tasks/<str:task_id>/activity",
        api_boards.TaskActivityView.as_view(),
        name="task-activity",
    ),
    path("events/<str:event_id>/board", api_boards.EventBoardView.as_view(), name="event-board"),
    path("me/tasks", api_boards.MyTasksView.as_view(), name="my-tasks"),
]
