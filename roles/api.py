"""HTTP layer of roles: thin views over ``roles.services`` and ``roles.selectors``.

Everything goes through the caller's membership: roles, terms and offers of a community the
caller cannot see answer 404. Times are shown in the community's time zone."""

from __future__ import annotations

from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from community.authz import Action, require, visible_membership
from community.errors import NotFound
from community.pagination import CursorPagination
from community.throttling import WriteThrottle
from community.timezones import community_time
from roles import selectors, services
from roles.serializers import (
    AssignIn,
    AssignmentOut,
    MyRoleOut,
    RoleCreateIn,
    RoleOut,
    RoleUpdateIn,
    VolunteerFilterIn,
    VolunteerIn,
    VolunteerOut,
)

TAGS = ["roles"]
_ROLE_ID = OpenApiParameter(
    "role_id", str, OpenApiParameter.PATH, description=gettext_lazy("Role id")
)
_ASSIGNMENT_ID = OpenApiParameter(
    "assignment_id",
    str,
    OpenApiParameter.PATH,
    description=gettext_lazy("Role assignment (term) id"),
)
_VOLUNTEER_ID = OpenApiParameter(
    "volunteer_id", str, OpenApiParameter.PATH, description=gettext_lazy("Volunteer offer id")
)
ADMINS_ONLY = gettext_lazy("Admins and the owner only (403 `tier_too_low` otherwise).")


class RoleCursor(CursorPagination):
    ordering = ("created_at", "id")


class AssignmentCursor(CursorPagination):
    ordering = ("-starts_at", "-id")


class MyRoleCursor(CursorPagination):
    ordering = ("starts_at", "id")


def _role_body(role, viewer, *, status_code: int = 200) -> Response:
    """One role as the list shows it (holders re-read so they are current)."""
    role = selectors.role_list(viewer=viewer).get(pk=role.pk)
    context = {"viewer": viewer, "pending_role_ids": selectors.my_pending_role_ids(viewer=viewer)}
    with community_time(viewer.community):
        return Response(RoleOut(role, context=context).data, status=status_code)


def _actor_for(request, community_id: str | None, action: Action = Action.VIEW):
    """The caller's membership in the community of an object found by id; 404 when there is
    no such object or the caller cannot see its community."""
    if community_id is None:
        raise NotFound(_("Not found."))
    return require(request.user, community_id, action)


ROLE_CREATE_EXAMPLE = OpenApiExample(
    "Event planner",
    value={
        "name": "活动策划",
        "description": "策划并组织线下活动",
        "capabilities": ["manage_events", "create_polls", "manage_boards"],
        "max_holders": 3,
        "term_days": 90,
    },
    request_only=True,
)


class RoleListView(GenericAPIView):
    pagination_class = RoleCursor
    serializer_class = RoleOut
    throttle_classes = [WriteThrottle]

    @extend_schema(
        operation_id="listRoles",
        tags=TAGS,
        summary=gettext_lazy("Roles of a community and who holds them"),
        description=(
            gettext_lazy(
                "Every member sees the roles of their community, the capabilities each grants, "
                "its current holders (terms past their end are not shown), and whether I hold it "
                "or offered to. Oldest role first, cursor-paginated."
            )
        ),
        responses={200: RoleOut(many=True)},
    )
    def get(self, request, community_id: str):
        viewer = visible_membership(request.user, community_id)
        page = self.paginate_queryset(selectors.role_list(viewer=viewer))
        context = {
            "viewer": viewer,
            "pending_role_ids": selectors.my_pending_role_ids(viewer=viewer),
        }
        with community_time(viewer.community):
            return self.get_paginated_response(RoleOut(page, many=True, context=context).data)

    @extend_schema(
        operation_id="createRole",
        tags=TAGS,
        summary=gettext_lazy("Define a role"),
        description=(
            format_lazy(
                "{}{}",
                gettext_lazy(
                    "A named job with capabilities from the fixed catalogue, an optional maximum of "
                    "holders and an optional term length in days. "
                ),
                ADMINS_ONLY,
            )
        ),
        request=RoleCreateIn,
        responses={201: RoleOut},
        examples=[ROLE_CREATE_EXAMPLE],
    )
    def post(self, request, community_id: str):
        actor = require(request.user, community_id, Action.MANAGE_ROLES)
        data = RoleCreateIn(data=request.data)
        data.is_valid(raise_exception=True)
        role = services.role_create(actor=actor, **data.validated_data)
        return _role_body(role, actor, status_code=status.HTTP_201_CREATED)


class RoleDetailView(APIView):
    throttle_classes = [WriteThrottle]

    @extend_schema(
        operation_id="getRole",
        tags=TAGS,
        summary=gettext_lazy("One role with its holders"),
        parameters=[_ROLE_ID],
        responses={200: RoleOut},
    )
    def get(self, request, role_id: str):
        role, viewer = selectors.role_for_member(user=request.user, role_id=role_id)
        return _role_body(role, viewer)

    @extend_schema(
        operation_id="updateRole",
        tags=TAGS,
        summary=gettext_lazy("Edit a role"),
        description=(
            format_lazy(
                "{}{}",
                gettext_lazy(
                    "Send only what changes. A lower `max_holders` than the current holders answers "
                    "409 `too_many_holders`; a new `term_days` applies to terms started or renewed "
                    "afterwards. "
                ),
                ADMINS_ONLY,
            )
        ),
        parameters=[_ROLE_ID],
        request=RoleUpdateIn,
        responses={200: RoleOut},
    )
    def patch(self, request, role_id: str):
        role, actor = selectors.role_for_member(
            user=request.user, role_id=role_id, action=Action.MANAGE_ROLES
        )
        data = RoleUpdateIn(data=request.data)
        data.is_valid(raise_exception=True)
        role = services.role_update(actor=actor, role_id=role.pk, **data.validated_data)
        return _role_body(role, actor)

    @extend_schema(
        operation_id="deleteRole",
        tags=TAGS,
        summary=gettext_lazy("Delete a role"),
        description=(
            format_lazy(
                "{}{}",
                gettext_lazy(
                    "The role disappears for members; its current terms end (`role_deleted`) and "
                    "pending offers are refused. The history of its terms is kept. "
                ),
                ADMINS_ONLY,
            )
        ),
        parameters=[_ROLE_ID],
        request=None,
        responses={204: None},
    )
    def delete(self, request, role_id: str):
        role, actor = selectors.role_for_member(
            user=request.user, role_id=role_id, action=Action.MANAGE_ROLES
        )
        services.role_delete(actor=actor, role_id=role.pk)
        return Response(status=status.HTTP_204_NO_CONTENT)


class RoleAssignmentsView(GenericAPIView):
    pagination_class = AssignmentCursor
    serializer_class = AssignmentOut
    throttle_classes = [WriteThrottle]

    @extend_schema(
        operation_id="listRoleAssignments",
        tags=TAGS,
        summary=gettext_lazy("History of a role's terms"),
        description=(
            format_lazy(
                "{}{}",
                gettext_lazy(
                    "Every term of the role, newest first: who held it, from when, until when, why it "
                    "ended and who ended it. Terms are never deleted. "
                ),
                ADMINS_ONLY,
            )
        ),
        parameters=[_ROLE_ID],
        responses={200: AssignmentOut(many=True)},
    )
    def get(self, request, role_id: str):
        role, actor = selectors.role_for_member(
            user=request.user, role_id=role_id, action=Action.MANAGE_ROLES
        )
        page = self.paginate_queryset(selectors.assignment_history(role=role))
        with community_time(actor.community):
            return self.get_paginated_response(AssignmentOut(page, many=True).data)

    @extend_schema(
        operation_id="assignRole",
        tags=TAGS,
        summary=gettext_lazy("Give a member a role"),
        description=(
            format_lazy(
                "{}{}",
                gettext_lazy(
                    "Starts a term now, ending after the role's `term_days` (if any). 409 "
                    "`already_holds_role`, `role_full` (the role has `max_holders` holders), "
                    "`not_active_member`; 404 for a member of another community. "
                ),
                ADMINS_ONLY,
            )
        ),
        parameters=[_ROLE_ID],
        request=AssignIn,
        responses={201: AssignmentOut},
        examples=[OpenApiExample("Assign", value={"member_id": "Hk3mP9xQa2Zb"}, request_only=True)],
    )
    def post(self, request, role_id: str):
        role, actor = selectors.role_for_member(
            user=request.user, role_id=role_id, action=Action.MANAGE_ROLES
        )
        data = AssignIn(data=request.data)
        data.is_valid(raise_exception=True)
        assignment = services.assignment_create(
            actor=actor, role_id=role.pk, member_id=data.validated_data["member_id"]
        )
        with community_time(actor.community):
            return Response(AssignmentOut(assignment).data, status=status.HTTP_201_CREATED)


class AssignmentEndView(APIView):
    throttle_classes = [WriteThrottle]

    @extend_schema(
        operation_id="endRoleAssignment",
        tags=TAGS,
        summary=gettext_lazy("End a term now"),
        description=(
            format_lazy(
                "{}{}",
                gettext_lazy(
                    "The holder loses the role's capabilities at once; the term stays in the history "
                    "with who ended it. 409 `assignment_ended` when it had ended. "
                ),
                ADMINS_ONLY,
            )
        ),
        parameters=[_ASSIGNMENT_ID],
        request=None,
        responses={200: AssignmentOut},
    )
    def post(self, request, assignment_id: str):
        actor = _actor_for(
            request,
            selectors.assignment_community(assignment_id=assignment_id),
            Action.MANAGE_ROLES,
        )
        assignment = services.assignment_end(actor=actor, assignment_id=assignment_id)
        with community_time(actor.community):
            return Response(AssignmentOut(assignment).data)


class AssignmentRenewView(APIView):
    throttle_classes = [WriteThrottle]

    @extend_schema(
        operation_id="renewRoleAssignment",
        tags=TAGS,
        summary=gettext_lazy("Renew a term"),
        description=(
            format_lazy(
                "{}{}",
                gettext_lazy(
                    "The current term ends (`renewed`) and a new one follows, ending one role term "
                    "after the old end (or after now when it had run out). Only a holder's latest "
                    "term of a role with a term length is renewable (409 `not_renewable`). "
                    "Answers the new term. "
                ),
                ADMINS_ONLY,
            )
        ),
        parameters=[_ASSIGNMENT_ID],
        request=None,
        responses={201: AssignmentOut},
    )
    def post(self, request, assignment_id: str):
        actor = _actor_for(
            request,
            selectors.assignment_community(assignment_id=assignment_id),
            Action.MANAGE_ROLES,
        )
        assignment = services.assignment_renew(actor=actor, assignment_id=assignment_id)
        with community_time(actor.community):
            return Response(AssignmentOut(assignment).data, status=status.HTTP_201_CREATED)


class VolunteerView(APIView):
    throttle_classes = [WriteThrottle]

    @extend_schema(
        operation_id="volunteerForRole",
        tags=TAGS,
        summary=gettext_lazy("Offer to take a role"),
        description=(
            gettext_lazy(
                "My offer waits for an admin's answer. Idempotent: offering again while an offer "
                "waits returns it. 409 `already_holds_role`."
            )
        ),
        parameters=[_ROLE_ID],
        request=VolunteerIn,
        responses={200: VolunteerOut},
    )
    def put(self, request, role_id: str):
        role, membership = selectors.role_for_member(
            user=request.user, role_id=role_id, action=Action.PARTICIPATE
        )
        data = VolunteerIn(data=request.data)
        data.is_valid(raise_exception=True)
        offer = services.volunteer_create(
            membership=membership, role_id=role.pk, message=data.validated_data["message"]
        )
        offer.role = role
        offer.membership = membership
        with community_time(membership.community):
            return Response(VolunteerOut(offer).data)

    @extend_schema(
        operation_id="withdrawRoleVolunteer",
        tags=TAGS,
        summary=gettext_lazy("Withdraw my offer"),
        description=gettext_lazy("A no-op when I have no waiting offer for this role."),
        parameters=[_ROLE_ID],
        request=None,
        responses={204: None},
    )
    def delete(self, request, role_id: str):
        role, membership = selectors.role_for_member(user=request.user, role_id=role_id)
        services.volunteer_withdraw(membership=membership, role_id=role.pk)
        return Response(status=status.HTTP_204_NO_CONTENT)


class RoleVolunteersView(GenericAPIView):
    pagination_class = CursorPagination
    serializer_class = VolunteerOut

    @extend_schema(
        operation_id="listRoleVolunteers",
        tags=TAGS,
        summary=gettext_lazy("Offers to take a role"),
        description=format_lazy(
            "{}{}",
            gettext_lazy("Waiting offers by default; `status` shows decided ones. "),
            ADMINS_ONLY,
        ),
        parameters=[_ROLE_ID, VolunteerFilterIn],
        responses={200: VolunteerOut(many=True)},
    )
    def get(self, request, role_id: str):
        role, actor = selectors.role_for_member(
            user=request.user, role_id=role_id, action=Action.MANAGE_ROLES
        )
        filters = VolunteerFilterIn(data=request.query_params)
        filters.is_valid(raise_exception=True)
        page = self.paginate_queryset(
            selectors.volunteer_list(role=role, status=filters.validated_data["status"])
        )
        for offer in page:
            offer.role = role
        with community_time(actor.community):
            return self.get_paginated_response(VolunteerOut(page, many=True).data)


def _decide(request, service, volunteer_id: str) -> Response:
    actor = _actor_for(
        request,
        selectors.volunteer_community(volunteer_id=volunteer_id),
        Action.MANAGE_ROLES,
    )
    offer = service(actor=actor, volunteer_id=volunteer_id)
    with community_time(actor.community):
        return Response(VolunteerOut(offer).data)


class VolunteerApproveView(APIView):
    throttle_classes = [WriteThrottle]

    @extend_schema(
        operation_id="approveRoleVolunteer",
        tags=TAGS,
        summary=gettext_lazy("Approve an offer"),
        description=(
            format_lazy(
                "{}{}",
                gettext_lazy(
                    "The member's term starts now, with the same rules as an assignment (409 "
                    "`role_full`, `already_holds_role`, `volunteer_decided`). "
                ),
                ADMINS_ONLY,
            )
        ),
        request=None,
        parameters=[_VOLUNTEER_ID],
        responses={200: VolunteerOut},
    )
    def post(self, request, volunteer_id: str):
        return _decide(request, services.volunteer_approve, volunteer_id)


class VolunteerRefuseView(APIView):
    throttle_classes = [WriteThrottle]

    @extend_schema(
        operation_id="refuseRoleVolunteer",
        tags=TAGS,
        summary=gettext_lazy("Refuse an offer"),
        description=(
            format_lazy(
                "{}{}",
                gettext_lazy(
                    "The offer stays in the history as refused (409 `volunteer_decided` when it was "
                    "answered already). "
                ),
                ADMINS_ONLY,
            )
        ),
        request=None,
        parameters=[_VOLUNTEER_ID],
        responses={200: VolunteerOut},
    )
    def post(self, request, volunteer_id: str):
        return _decide(request, services.volunteer_refuse, volunteer_id)


class MyRolesView(GenericAPIView):
    pagination_class = MyRoleCursor
    serializer_class = MyRoleOut

    @extend_schema(
        operation_id="listMyRoles",
        tags=TAGS,
        summary=gettext_lazy("My roles"),
        description=(
            gettext_lazy(
                "The roles I hold now in every community I belong to, with their capabilities "
                "and when each term ends."
            )
        ),
        responses={200: MyRoleOut(many=True)},
    )
    def get(self, request):
        page = self.paginate_queryset(selectors.my_roles(user=request.user))
        body = []
        for assignment in page:  # each in the time zone of its own community
            with community_time(assignment.community):
                body.append(MyRoleOut(assignment).data)
        return self.get_paginated_response(body)
