"""URLs of the roles app under /api/v1/."""

from django.urls import path

from roles import api

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
]
