"""URLs of the roles app under /api/v1/."""

from django.urls import path

from roles import api, api_boards

urlpatterns = [
    path("communities/<str:community_id>/roles", api.RoleListView.as_view(), name="role-list"),
    path("roles/<str:role_id>", api.RoleDetailView.as_view(), name="role-detail"),
    path(
        "roles/<str:role_id>/assignments",
        api.RoleAssignmentsView.as_view(),
        name="role-assignments",
    ),
    path("roles/<str:role_id>/volunteer", api.VolunteerView.as_view(), name="role-volunteer"),
    path(
        "roles/<str:role_id>/volunteers",
        api.RoleVolunteersView.as_view(),
        name="role-volunteers",
    ),
    path(
        "role-assignments/<str:assignment_id>/end",
        api.AssignmentEndView.as_view(),
        name="role-assignment-end",
    ),
    path(
        "role-assignments/<str:assignment_id>/renew",
        api.AssignmentRenewView.as_view(),
        name="role-assignment-renew",
    ),
    path(
        "role-volunteers/<str:volunteer_id>/approve",
        api.VolunteerApproveView.as_view(),
        name="role-volunteer-approve",
    ),
    path(
        "role-volunteers/<str:volunteer_id>/refuse",
        api.VolunteerRefuseView.as_view(),
        name="role-volunteer-refuse",
    ),
    path("me/roles", api.MyRolesView.as_view(), name="my-roles"),
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
