"""HTTP layer of check-in: thin views over ``events.services.checkin`` and ``events.roster``.

The member's ticket is a QR code the mini-program shows (``code`` as text, or the PNG made by
``segno``); the organizer scans it with ``wx.scanCode`` and posts the text. The event's door
code works the same way for self check-in."""

from __future__ import annotations

import io

import segno
from django.http import HttpResponse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from community.pagination import CursorPagination
from community.throttling import WriteThrottle
from community.timezones import community_time
from events import roster
from events.serializers_edges import (
    CheckInIn,
    CheckInOut,
    DoorCodeOut,
    NoShowOut,
    SelfCheckInIn,
    TicketOut,
)
from events.services import checkin as services

TAGS = ["events"]
_EVENT_ID = OpenApiParameter("event_id", str, OpenApiParameter.PATH, description=_("Event id"))
PNG = OpenApiResponse(response=bytes, description=_("PNG image of the QR code"))


def _qr_png(text: str) -> HttpResponse:
    buffer = io.BytesIO()
    segno.make(text, error="m").save(buffer, kind="png", scale=8, border=4)
    response = HttpResponse(buffer.getvalue(), content_type="image/png")
    response["Cache-Control"] = "private, no-store"
    return response


def _checkin_response(result, event, *, code: int = 200) -> Response:
    with community_time(event.community):
        return Response(CheckInOut(result).data, status=code)


class CheckInView(APIView):
    throttle_classes = [WriteThrottle]

    @extend_schema(
        operation_id="checkInAttendee",
        tags=TAGS,
        parameters=[_EVENT_ID],
        summary=_("Check an attendee in (organizers)"),
        description=(
            _(
                "Send the scanned ticket (`code`, the text of the member's QR code from "
                "`wx.scanCode`) or, to tick someone off by hand, `registration_id`. Checks in the "
                "member and `guests` of their guests (all by default). Idempotent: scanning again "
                "adds only guests not yet checked in (`added` 0 for a replay). Refused: a ticket "
                "of another event (`wrong_event`), a forged or revoked one (`invalid_code`), a "
                "registration that is not confirmed (`registration_not_confirmed`), a cancelled "
                "event (`event_cancelled`)."
            )
        ),
        request=CheckInIn,
        responses={200: CheckInOut},
        examples=[
            OpenApiExample(
                "Scanned ticket",
                value={"code": "t.Hk3mP9xQa2Zb.0kq2...signature", "guests": 1},
                request_only=True,
            )
        ],
    )
    def post(self, request, event_id: str):
        event, actor = roster.event_for_member(user=request.user, event_id=event_id)
        data = CheckInIn(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        if values.get("code"):
            result = services.checkin_by_code(
                actor=actor, event=event, code=values["code"], guests=values.get("guests")
            )
        else:
            result = services.checkin_by_hand(
                actor=actor,
                event=event,
                registration_id=values["registration_id"],
                guests=values.get("guests"),
            )
        return _checkin_response(result, event)


class CheckInUndoView(APIView):
    throttle_classes = [WriteThrottle]

    @extend_schema(
        operation_id="undoCheckIn",
        tags=TAGS,
        parameters=[
            _EVENT_ID,
            OpenApiParameter("registration_id", str, OpenApiParameter.PATH),
        ],
        summary=_("Take back a check-in (organizers)"),
        description=_("Removes the check-ins of the registration's member and guests."),
        request=None,
        responses={204: None},
    )
    def delete(self, request, event_id: str, registration_id: str):
        event, actor = roster.event_for_member(user=request.user, event_id=event_id)
        services.checkin_undo(actor=actor, event=event, registration_id=registration_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class SelfCheckInView(APIView):
    throttle_classes = [WriteThrottle]

    @extend_schema(
        operation_id="checkInMyself",
        tags=TAGS,
        parameters=[_EVENT_ID],
        summary=_("Check myself in with the event's door code"),
        description=(
            _(
                "Scan the event's check-in QR code at the venue and send its text. Works inside "
                "the event's self check-in window (`checkin_not_open`, `checkin_closed`), when the "
                "organizer switched it on (`self_checkin_disabled`), for a confirmed registration "
                "of mine. Idempotent."
            )
        ),
        request=SelfCheckInIn,
        responses={200: CheckInOut},
    )
    def post(self, request, event_id: str):
        event, membership = roster.event_for_member(user=request.user, event_id=event_id)
        data = SelfCheckInIn(data=request.data)
        data.is_valid(raise_exception=True)
        result = services.checkin_self(
            actor=membership,
            event=event,
            code=data.validated_data["code"],
            guests=data.validated_data.get("guests"),
        )
        return _checkin_response(result, event)


class TicketView(APIView):
    @extend_schema(
        operation_id="getMyTicket",
        tags=TAGS,
        parameters=[_EVENT_ID],
        summary=_("My ticket (QR code text) for an event"),
        description=(
            _(
                "`code` is the text to show as a QR code (or fetch the PNG from `/ticket/qr`); null "
                "unless my registration is confirmed. `checked_in` lists who of us is checked in."
            )
        ),
        responses={200: TicketOut},
    )
    def get(self, request, event_id: str):
        event, membership = roster.event_for_member(user=request.user, event_id=event_id)
        ticket = roster.ticket_of(membership=membership, event=event)
        with community_time(event.community):
            return Response(TicketOut(ticket).data)


class TicketQrView(APIView):
    @extend_schema(
        operation_id="getMyTicketQr",
        tags=TAGS,
        parameters=[_EVENT_ID],
        summary=_("My ticket as a QR code image (PNG)"),
        description=_("404 `no_ticket` unless my registration is confirmed."),
        responses={(200, "image/png"): PNG},
    )
    def get(self, request, event_id: str):
        event, membership = roster.event_for_member(user=request.user, event_id=event_id)
        return _qr_png(roster.ticket_code_of(membership=membership, event=event))


class DoorCodeView(APIView):
    @extend_schema(
        operation_id="getEventDoorCode",
        tags=TAGS,
        parameters=[_EVENT_ID],
        summary=_("The event's self check-in code (organizers)"),
        description=_("Show it as a QR code at the venue; members scan it to check in."),
        responses={200: DoorCodeOut},
    )
    def get(self, request, event_id: str):
        event, actor = roster.event_for_member(user=request.user, event_id=event_id)
        code = roster.self_checkin_code(actor=actor, event=event)
        opens, closes = event.self_checkin_window
        body = {
            "code": code,
            "enabled": event.self_checkin_enabled,
            "opens_at": opens,
            "closes_at": closes,
        }
        with community_time(event.community):
            return Response(DoorCodeOut(body).data)


class DoorCodeQrView(APIView):
    @extend_schema(
        operation_id="getEventDoorCodeQr",
        tags=TAGS,
        parameters=[_EVENT_ID],
        summary=_("The event's self check-in code as a QR code image (organizers)"),
        responses={(200, "image/png"): PNG},
    )
    def get(self, request, event_id: str):
        event, actor = roster.event_for_member(user=request.user, event_id=event_id)
        return _qr_png(roster.self_checkin_code(actor=actor, event=event))


class RotateCodesView(APIView):
    throttle_classes = [WriteThrottle]

    @extend_schema(
        operation_id="rotateEventCheckInCodes",
        tags=TAGS,
        parameters=[_EVENT_ID],
        summary=_("Revoke every ticket and the door code of an event (organizers)"),
        description=_("New codes at once; screenshots and photos of the old ones stop working."),
        request=None,
        responses={200: DoorCodeOut},
    )
    def post(self, request, event_id: str):
        event, actor = roster.event_for_member(user=request.user, event_id=event_id)
        services.event_rotate_checkin_codes(actor=actor, event=event)
        opens, closes = event.self_checkin_window
        body = {
            "code": roster.self_checkin_code(actor=actor, event=event),
            "enabled": event.self_checkin_enabled,
            "opens_at": opens,
            "closes_at": closes,
        }
        with community_time(event.community):
            return Response(DoorCodeOut(body).data)


class NoShowPagination(CursorPagination):
    ordering = ("signed_up_at", "id")


class NoShowListView(GenericAPIView):
    pagination_class = NoShowPagination
    serializer_class = NoShowOut

    @extend_schema(
        operation_id="listEventNoShows",
        tags=TAGS,
        parameters=[_EVENT_ID],
        summary=_("Confirmed attendees who never checked in (organizers, after the event)"),
        description=_("Derived when read; 409 `event_not_ended` before the event's end."),
        responses={200: NoShowOut(many=True)},
    )
    def get(self, request, event_id: str):
        event, actor = roster.event_for_member(user=request.user, event_id=event_id)
        page = self.paginate_queryset(roster.no_shows(actor=actor, event=event))
        with community_time(event.community):
            return self.get_paginated_response(NoShowOut(page, many=True).data)
