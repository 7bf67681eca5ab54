"""HTTP layer of events: thin views over ``events.services`` and ``events.selectors``.

Times are rendered in the event's community time zone (ISO 8601 with offset)."""

from __future__ import annotations

from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from community.authz import Action, can, require, visible_membership
from community.bound_serializers import represent, validated
from community.pagination import CursorPagination
from community.throttling import WriteThrottle
from community.timezones import community_time
from events import selectors, services
from events.models import Event, EventOrganizer, RegistrationStatus
from events.serializers import (
    AttendeeRowOut,
    EventCancelIn,
    EventCardOut,
    EventCreateIn,
    EventDetailOut,
    EventFilterIn,
    EventUpdateIn,
    MyEventStateOut,
    OrganizerIn,
    OrganizerOut,
    RegistrationFilterIn,
    RegistrationIn,
    RegistrationRowOut,
)

TAGS = ["events"]
_EVENT_ID = OpenApiParameter("event_id", str, OpenApiParameter.PATH, description=_("Event id"))
_REG_ID = OpenApiParameter(
    "registration_id", str, OpenApiParameter.PATH, description=_("Registration id")
)

SEATS_NOTE = _(
    "**Seats.** Capacity counts seats (the member plus their guests) and is never exceeded: "
    "the statement that takes seats is guarded in the database. When the event is full, or "
    "someone is already waiting, a sign-up joins the waitlist (first come, first served; "
    "`waitlist_position` shows the place). Freed seats go to the first in line at once, or "
    "as an offer to claim (PUT again) before `offer_expires_at` when the event uses offers; "
    "an unclaimed offer passes to the next. "
)


def _my_body(event: Event, my: selectors.MyRegistration, now) -> dict:
    reg = my.registration
    can_cancel = bool(
        reg is not None
        and reg.status
        in (
            RegistrationStatus.PENDING,
            RegistrationStatus.WAITLISTED,
            RegistrationStatus.OFFERED,
            RegistrationStatus.CONFIRMED,
        )
        and now < event.starts_at
        and (reg.status != RegistrationStatus.CONFIRMED or now < event.cancel_until)
    )
    return {
        "state": my.state,
        "registration_id": reg.pk if reg else None,
        "guests": reg.guests if reg else 0,
        "guests_wanted": reg.guests_wanted if reg else 0,
        "seats": reg.seats if reg else 0,
        "note": reg.note if reg else "",
        "answers": reg.answers if reg else {},
        "accept_partial": reg.accept_partial if reg else False,
        "waitlist_position": my.waitlist_position,
        "offer_expires_at": reg.offer_expires_at if reg else None,
        "checked_in": my.checked_in,
        "can_cancel": can_cancel,
    }


def _detail_response(event: Event, membership, *, status_code: int = 200) -> Response:
    now = timezone.now()
    my = selectors.my_registration(event=event, user_id=membership.user_id)
    event.my_status = my.registration.status if my.registration else selectors.MyState.NONE
    event.can_manage = services.may_manage(membership, event)
    event.can_see_attendees = can(membership, Action.SEE_EVENT_ATTENDEES, obj=event)
    event.my = _my_body(event, my, now)
    with community_time(event.community):
        body = EventDetailOut(event).data
    return Response(body, status=status_code)


def _fresh(event: Event) -> Event:
    """The event after an expired offer was passed on (read again with its community)."""
    if services.event_offers_expire_on_read(event=event):
        refreshed = Event.objects.select_related("community").get(pk=event.pk)
        return refreshed
    return event


EVENT_CREATE_EXAMPLES = [
    OpenApiExample(
        "Quick 接龙",
        value={
            "mode": "quick",
            "title": "周六爬山",
            "starts_at": "2026-06-06T08:00:00+08:00",
            "location_name": "香山公园东门",
            "capacity": 12,
            "max_guests": 2,
        },
        request_only=True,
    ),
    OpenApiExample(
        "Full event with a form and offers",
        value={
            "mode": "full",
            "title": "Python 分享会",
            "starts_at": "2026-06-13T14:00:00+08:00",
            "ends_at": "2026-06-13T17:00:00+08:00",
            "capacity": 50,
            "max_guests": 1,
            "requires_approval": False,
            "waitlist_offers": True,
            "offer_hours": 12,
            "reminder_hours": [24, 2],
            "form": {
                "questions": [
                    {
                        "id": "diet",
                        "type": "single_choice",
                        "title": "饮食",
                        "required": True,
                        "choices": [
                            {"id": "any", "label": "都可以"},
                            {"id": "veg", "label": "素食"},
                        ],
                    }
                ]
            },
        },
        request_only=True,
    ),
]


class EventListView(GenericAPIView):
    pagination_class = CursorPagination
    serializer_class = EventCardOut
    throttle_classes = [WriteThrottle]

    @extend_schema(
        operation_id="listEvents",
        tags=TAGS,
        summary=_("Events of a community"),
        description=(
            _(
                "Newest first, cursor-paginated. Each card carries what the list shows: title, "
                "mode, status (from the clock), start, place, seats taken and left, waitlist "
                "length and my status. Filters: `when` (upcoming, past, all), `mine`."
            )
        ),
        parameters=[EventFilterIn],
        responses={200: EventCardOut(many=True)},
    )
    def get(self, request, community_id: str):
        viewer = visible_membership(request.user, community_id)
        filters = EventFilterIn(data=request.query_params)
        filters.is_valid(raise_exception=True)
        when = filters.validated_data["when"]
        page = self.paginate_queryset(
            selectors.event_list(
                viewer=viewer,
                status=None if when == "all" else when,
                mine=filters.validated_data["mine"],
            )
        )
        for event in page:
            event.my_status = event.my_status or selectors.MyState.NONE
        with community_time(viewer.community):
            return self.get_paginated_response(EventCardOut(page, many=True).data)

    @extend_schema(
        operation_id="createEvent",
        tags=TAGS,
        summary=_("Create an event"),
        description=(
            _(
                "A quick 接龙 (`mode=quick`: title, time, capacity; the list of names is visible "
                "to members) by moderators, or by every member when the community allows "
                "(`members_can_create_events`); a full event (`mode=full`: registration form, "
                "approval, attendee list for organizers) by moderators. I become its organizer; "
                "`organizer_user_ids` adds others. Times without an offset are in the community's "
                "time zone."
            )
        ),
        request=EventCreateIn,
        responses={201: EventDetailOut},
        examples=EVENT_CREATE_EXAMPLES,
    )
    def post(self, request, community_id: str):
        actor = require(request.user, community_id, Action.VIEW)
        data = EventCreateIn(data=request.data)
        with community_time(actor.community):
            data.is_valid(raise_exception=True)
        event = services.event_create(actor=actor, **data.validated_data)
        event.community = actor.community
        return _detail_response(event, actor, status_code=status.HTTP_201_CREATED)


class EventDetailView(APIView):
    throttle_classes = [WriteThrottle]

    @extend_schema(
        operation_id="getEvent",
        tags=TAGS,
        summary=_("Event detail"),
        description=(
            format_lazy(
                "{}{}",
                _(
                    "The event with seats left, the waitlist length, what I may do and my status "
                    "(`my`: confirmed, waitlisted with my place, offered until, cancelled, checked "
                    "in). 404 outside my communities. "
                ),
                SEATS_NOTE,
            )
        ),
        parameters=[_EVENT_ID],
        responses={200: EventDetailOut},
    )
    def get(self, request, event_id: str):
        event, membership = selectors.event_for_member(user=request.user, event_id=event_id)
        return _detail_response(_fresh(event), membership)

    @extend_schema(
        operation_id="updateEvent",
        tags=TAGS,
        summary=_("Change an event"),
        description=(
            _(
                "Organizers and moderators. A new time or place is announced to everyone "
                "registered or waiting. A capacity below the seats taken is refused (409 "
                "`capacity_below_taken`); a higher one gives the new seats to the line at once."
            )
        ),
        parameters=[_EVENT_ID],
        request=EventUpdateIn,
        responses={200: EventDetailOut},
    )
    def patch(self, request, event_id: str):
        event, membership = selectors.event_for_member(user=request.user, event_id=event_id)
        data = EventUpdateIn(data=request.data, partial=True)
        with community_time(event.community):
            data.is_valid(raise_exception=True)
        event = services.event_update(actor=membership, event_id=event.pk, **data.validated_data)
        event.community = membership.community
        return _detail_response(event, membership)


class EventCancelView(APIView):
    throttle_classes = [WriteThrottle]

    @extend_schema(
        operation_id="cancelEvent",
        tags=TAGS,
        summary=_("Cancel an event"),
        description=_("Organizers and moderators; everyone registered or waiting is told once."),
        parameters=[_EVENT_ID],
        request=EventCancelIn,
        responses={200: EventDetailOut},
    )
    def post(self, request, event_id: str):
        event, membership = selectors.event_for_member(user=request.user, event_id=event_id)
        data = EventCancelIn(data=request.data)
        data.is_valid(raise_exception=True)
        event = services.event_cancel(
            actor=membership, event_id=event.pk, reason=data.validated_data["reason"]
        )
        event.community = membership.community
        return _detail_response(event, membership)


class MyRegistrationView(APIView):
    throttle_classes = [WriteThrottle]

    def _answer(self, event: Event, membership, *, fresh=None) -> Response:
        my = selectors.my_registration(event=event, user_id=membership.user_id, fresh=fresh)
        with community_time(event.community):
            body = represent(MyEventStateOut, _my_body(event, my, timezone.now()))
        return Response(body)

    @extend_schema(
        operation_id="getMyRegistration",
        tags=TAGS,
        summary=_("My registration"),
        description=format_lazy(
            "{}{}",
            _("My status at the event (`state` is `none` when I never signed up). "),
            SEATS_NOTE,
        ),
        parameters=[_EVENT_ID],
        responses={200: MyEventStateOut},
    )
    def get(self, request, event_id: str):
        event, membership = selectors.event_for_member(user=request.user, event_id=event_id)
        return self._answer(_fresh(event), membership)

    @extend_schema(
        operation_id="signUpForEvent",
        tags=TAGS,
        summary=_("Sign up, change my sign-up or claim an offer"),
        description=(
            format_lazy(
                "{}{}",
                _(
                    "Idempotent: the same body again changes nothing, a new one replaces my guests, "
                    "note and form answers. Confirmed when the seats fit and nobody waits; in approval "
                    "mode `pending` until an organizer decides; otherwise waitlisted, or with "
                    "`accept_partial` the seats that fit with fewer guests. When I hold an offer this "
                    "claims it. Errors: 400 `too_many_guests`, form answers (`answers.<id>`); 409 "
                    "`signup_closed`, `signup_not_open`, `event_cancelled`, `not_enough_seats` (more "
                    "guests than seats left), `offer_expired`, `registration_rejected`. "
                ),
                SEATS_NOTE,
            )
        ),
        parameters=[_EVENT_ID],
        request=RegistrationIn,
        responses={200: MyEventStateOut},
        examples=[
            OpenApiExample(
                "Me and one guest", value={"guests": 1, "note": "带孩子"}, request_only=True
            ),
            OpenApiExample(
                "With form answers",
                value={"guests": 0, "answers": {"diet": {"choice": "veg"}}},
                request_only=True,
            ),
        ],
    )
    def put(self, request, event_id: str):
        event, membership = selectors.event_for_member(
            user=request.user, event_id=event_id, action=Action.PARTICIPATE
        )
        data = validated(RegistrationIn, request.data)
        registration = services.registration_put(
            actor=membership, event_id=event.pk, event=event, **data
        )
        return self._answer(event, membership, fresh=registration)

    @extend_schema(
        operation_id="cancelMyRegistration",
        tags=TAGS,
        summary=_("Cancel my registration"),
        description=(
            _(
                "Gives my seats back (until the cancellation deadline), leaves the waitlist, "
                "declines an offer or withdraws a sign-up waiting for approval; freed seats go to "
                "the next in line at once. A no-op when I have nothing to cancel. 409 "
                "`cancel_deadline_passed`, `event_started`."
            )
        ),
        parameters=[_EVENT_ID],
        request=None,
        responses={200: MyEventStateOut},
    )
    def delete(self, request, event_id: str):
        event, membership = selectors.event_for_member(user=request.user, event_id=event_id)
        services.registration_cancel(actor=membership, event_id=event.pk)
        return self._answer(event, membership)


class _ListPagination(CursorPagination):
    """Cursor pagination in list order: who signed up first (the waitlist: place in line)."""

    ordering = "signed_up_at"

    def get_ordering(self, request, queryset, view):
        return (view.list_ordering,)


class RegistrationListView(GenericAPIView):
    pagination_class = _ListPagination
    serializer_class = RegistrationRowOut
    list_ordering = "signed_up_at"

    @extend_schema(
        operation_id="listEventRegistrations",
        tags=TAGS,
        summary=_("The sign-up list (接龙)"),
        description=(
            _(
                "Who signed up, in order, numbered as a 接龙 (`number`), with guests (+N) and "
                "notes: `group=seated` (confirmed and offered), `waitlisted` (by place in line), "
                "`pending`, `cancelled`. Members see it for a quick 接龙 and for events that show "
                "their attendees; organizers always, with the form answers. Cursor-paginated."
            )
        ),
        parameters=[_EVENT_ID, RegistrationFilterIn],
        responses={200: AttendeeRowOut(many=True)},
    )
    def get(self, request, event_id: str):
        event, membership = selectors.event_for_member(
            user=request.user, event_id=event_id, action=Action.SEE_EVENT_ATTENDEES
        )
        event = _fresh(event)
        filters = RegistrationFilterIn(data=request.query_params)
        filters.is_valid(raise_exception=True)
        group = filters.validated_data["group"]
        self.list_ordering = selectors.list_ordering(group)
        page = self.paginate_queryset(selectors.registration_list(event=event, group=group))
        out = AttendeeRowOut if services.may_manage(membership, event) else RegistrationRowOut
        with community_time(event.community):
            return self.get_paginated_response(out(page, many=True).data)


def _row_response(event: Event, registration_id: str) -> Response:
    row = selectors.registration_row(event=event, registration_id=registration_id)
    with community_time(event.community):
        return Response(AttendeeRowOut(row).data)


class ApproveRegistrationView(APIView):
    throttle_classes = [WriteThrottle]

    @extend_schema(
        operation_id="approveRegistration",
        tags=TAGS,
        summary=_("Approve a sign-up"),
        description=(
            _(
                "Organizers and moderators, for events that need approval: the sign-up takes "
                "seats under the same guard as any (or joins the end of the waitlist when they "
                "do not fit). Idempotent. 409 `not_pending`."
            )
        ),
        parameters=[_EVENT_ID, _REG_ID],
        request=None,
        responses={200: AttendeeRowOut},
    )
    def post(self, request, event_id: str, registration_id: str):
        event, membership = selectors.event_for_member(user=request.user, event_id=event_id)
        services.registration_approve(
            actor=membership, event_id=event.pk, registration_id=registration_id
        )
        return _row_response(event, registration_id)


class RejectRegistrationView(APIView):
    throttle_classes = [WriteThrottle]

    @extend_schema(
        operation_id="rejectRegistration",
        tags=TAGS,
        summary=_("Decline a sign-up"),
        description=_(
            "Organizers and moderators: a sign-up waiting for approval or on the "
            "waitlist. 409 `not_pending`."
        ),
        parameters=[_EVENT_ID, _REG_ID],
        request=None,
        responses={200: AttendeeRowOut},
    )
    def post(self, request, event_id: str, registration_id: str):
        event, membership = selectors.event_for_member(user=request.user, event_id=event_id)
        services.registration_reject(
            actor=membership, event_id=event.pk, registration_id=registration_id
        )
        return _row_response(event, registration_id)


class RemoveRegistrationView(APIView):
    throttle_classes = [WriteThrottle]

    @extend_schema(
        operation_id="removeRegistration",
        tags=TAGS,
        summary=_("Remove someone from the event"),
        description=_("Organizers and moderators, without deadline; the seats go to the line."),
        parameters=[_EVENT_ID, _REG_ID],
        request=None,
        responses={200: AttendeeRowOut},
    )
    def post(self, request, event_id: str, registration_id: str):
        event, membership = selectors.event_for_member(user=request.user, event_id=event_id)
        services.registration_remove(
            actor=membership, event_id=event.pk, registration_id=registration_id
        )
        return _row_response(event, registration_id)


class OrganizerListView(GenericAPIView):
    pagination_class = CursorPagination
    serializer_class = OrganizerOut
    throttle_classes = [WriteThrottle]

    @extend_schema(
        operation_id="listEventOrganizers",
        tags=TAGS,
        summary=_("Organizers of an event"),
        parameters=[_EVENT_ID],
        responses={200: OrganizerOut(many=True)},
    )
    def get(self, request, event_id: str):
        event, _membership = selectors.event_for_member(user=request.user, event_id=event_id)
        page = self.paginate_queryset(selectors.organizer_list(event=event))
        with community_time(event.community):
            return self.get_paginated_response(OrganizerOut(page, many=True).data)

    @extend_schema(
        operation_id="addEventOrganizer",
        tags=TAGS,
        summary=_("Add an organizer"),
        description=_("Organizers and moderators add an active member (idempotent)."),
        parameters=[_EVENT_ID],
        request=OrganizerIn,
        responses={201: OrganizerOut},
    )
    def post(self, request, event_id: str):
        event, membership = selectors.event_for_member(user=request.user, event_id=event_id)
        data = OrganizerIn(data=request.data)
        data.is_valid(raise_exception=True)
        organizer = services.organizer_add(
            actor=membership, event_id=event.pk, user_id=data.validated_data["user_id"]
        )
        organizer = EventOrganizer.objects.select_related("user").get(pk=organizer.pk)
        with community_time(event.community):
            return Response(OrganizerOut(organizer).data, status=status.HTTP_201_CREATED)


class OrganizerDetailView(APIView):
    throttle_classes = [WriteThrottle]

    @extend_schema(
        operation_id="removeEventOrganizer",
        tags=TAGS,
        summary=_("Remove an organizer"),
        description=_("The creator stays (409 `creator_stays`)."),
        parameters=[
            _EVENT_ID,
            OpenApiParameter("user_id", str, OpenApiParameter.PATH, description=_("User id")),
        ],
        request=None,
        responses={204: None},
    )
    def delete(self, request, event_id: str, user_id: str):
        event, membership = selectors.event_for_member(user=request.user, event_id=event_id)
        services.organizer_remove(actor=membership, event_id=event.pk, user_id=user_id)
        return Response(status=status.HTTP_204_NO_CONTENT)
