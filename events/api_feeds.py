"""HTTP layer of calendar files (.ics), the 接龙 text and the share card of an event.

Calendar files are ``text/calendar`` (``icalendar``), in the community's time zone. One
event's file and the community's feed need the member's bearer token; a calendar app, which
cannot send one, subscribes to the member's secret feed address instead (a revocable token
of which only the hash is stored, see ``events.models_edges``)."""

from __future__ import annotations

from django.http import HttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from community.authz import visible_membership
from community.errors import NotFound
from community.openapi import COMMUNITY_ID
from community.throttling import WriteThrottle
from events import roster
from events.serializers_edges import (
    CalendarFeedOut,
    EventJoinIn,
    EventLandingOut,
    EventShareOut,
    JielongOut,
)
from events.services import feeds, landing

TAGS = ["events"]
_EVENT_ID = OpenApiParameter(
    "event_id", str, OpenApiParameter.PATH, description=gettext_lazy("Event id")
)
ICS = OpenApiResponse(response=bytes, description=gettext_lazy("iCalendar file (RFC 5545)"))


class CalendarRenderer(BaseRenderer):
    """Lets a client that asks for ``text/calendar`` only be served; errors stay JSON."""

    media_type = "text/calendar"
    format = "ics"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if isinstance(data, bytes):
            return data
        return JSONRenderer().render(data)


def _ics_response(body: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, max-age=300"
    return response


class EventIcsView(APIView):
    renderer_classes = [JSONRenderer, CalendarRenderer]

    @extend_schema(
        operation_id="downloadEventCalendar",
        tags=TAGS,
        parameters=[_EVENT_ID],
        summary=gettext_lazy("The event as a calendar file (.ics)"),
        description=gettext_lazy(
            "In the community's time zone; `STATUS:CANCELLED` once cancelled."
        ),
        responses={(200, "text/calendar"): ICS},
    )
    def get(self, request, event_id: str):
        event, _membership = roster.event_for_member(user=request.user, event_id=event_id)
        return _ics_response(roster.event_ics(event=event), f"{event.pk}.ics")


class CommunityIcsView(APIView):
    renderer_classes = [JSONRenderer, CalendarRenderer]

    @extend_schema(
        operation_id="downloadCommunityCalendar",
        tags=TAGS,
        parameters=[COMMUNITY_ID],
        summary=gettext_lazy("The community's events as a calendar file (.ics)"),
        description=(
            gettext_lazy(
                "Upcoming events and those of the last 30 days (cancelled ones marked cancelled, "
                "so a subscribed calendar drops them). For a calendar app, use the secret feed "
                "address of `createCalendarFeed`."
            )
        ),
        responses={(200, "text/calendar"): ICS},
    )
    def get(self, request, community_id: str):
        membership = visible_membership(request.user, community_id)
        body = roster.community_ics(community=membership.community)
        return _ics_response(body, "events.ics")


class CalendarFeedView(APIView):
    throttle_classes = [WriteThrottle]

    @extend_schema(
        operation_id="createCalendarFeed",
        tags=TAGS,
        parameters=[COMMUNITY_ID],
        summary=gettext_lazy("My secret calendar feed address"),
        description=(
            gettext_lazy(
                "A URL a calendar app subscribes to (no login: the address is the key, so keep it "
                "private). Shown once; asking again makes a new one and the old stops working. "
                "It stops working too when I leave the community."
            )
        ),
        request=None,
        responses={201: CalendarFeedOut},
    )
    def post(self, request, community_id: str):
        membership = visible_membership(request.user, community_id)
        raw = feeds.calendar_feed_issue(actor=membership)
        url = request.build_absolute_uri(reverse("event-calendar-feed", args=[raw]))
        return Response(CalendarFeedOut({"url": url}).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        operation_id="revokeCalendarFeed",
        tags=TAGS,
        parameters=[COMMUNITY_ID],
        summary=gettext_lazy("Revoke my calendar feed address"),
        request=None,
        responses={204: None},
    )
    def delete(self, request, community_id: str):
        membership = visible_membership(request.user, community_id)
        feeds.calendar_feed_revoke(actor=membership)
        return Response(status=status.HTTP_204_NO_CONTENT)


class CalendarFeedReadView(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]
    renderer_classes = [JSONRenderer, CalendarRenderer]

    @extend_schema(
        operation_id="readCalendarFeed",
        tags=TAGS,
        parameters=[OpenApiParameter("token", str, OpenApiParameter.PATH)],
        summary=gettext_lazy("A calendar feed (for calendar apps, no login)"),
        description=gettext_lazy("404 for an unknown or revoked address."),
        auth=[],
        responses={(200, "text/calendar"): ICS},
    )
    def get(self, request, token: str):
        membership = feeds.calendar_feed_membership(raw=token)
        if membership is None:
            raise NotFound(_("Calendar feed not found."))
        body = roster.community_ics(community=membership.community, refresh_minutes=60)
        return _ics_response(body, "events.ics")


class JielongView(APIView):
    @extend_schema(
        operation_id="getJielongText",
        tags=TAGS,
        parameters=[_EVENT_ID],
        summary=gettext_lazy("The sign-up list as 接龙 text"),
        description=(
            gettext_lazy(
                "For the organizer to paste into the group chat: title, date, place, the confirmed "
                "sign-ups numbered in order with their +N and notes, the waitlist, the seats "
                "taken. Whoever may see the attendee list may get it (every member for a 接龙)."
            )
        ),
        responses={200: JielongOut},
    )
    def get(self, request, event_id: str):
        event, membership = roster.event_for_member(user=request.user, event_id=event_id)
        return Response(
            JielongOut({"text": roster.jielong_text(viewer=membership, event=event)}).data
        )


class EventShareView(APIView):
    @extend_schema(
        operation_id="getEventShareCard",
        tags=TAGS,
        parameters=[_EVENT_ID],
        summary=gettext_lazy("What to share the event with"),
        description=(
            gettext_lazy(
                "For `onShareAppMessage` (`title`, `path`, `image_url`) and for a mini-program code "
                "(`scene`, at most 32 characters, with page `pages/events/detail`). Whoever opens "
                "the card without being a member gets 404 on the event and joins with "
                "`joinEventCommunityFromShare`."
            )
        ),
        responses={200: EventShareOut},
    )
    def get(self, request, event_id: str):
        event, _membership = roster.event_for_member(user=request.user, event_id=event_id)
        body = {
            "title": event.title,
            "path": landing.event_page_path(event.pk),
            "scene": landing.event_scene(event.pk),
            "image_url": event.cover_url,
        }
        return Response(EventShareOut(body).data)


class EventJoinView(APIView):
    throttle_classes = [WriteThrottle]

    @extend_schema(
        operation_id="joinEventCommunityFromShare",
        tags=TAGS,
        parameters=[_EVENT_ID],
        summary=gettext_lazy(
            "Join the event's community from its share card and land on the event"
        ),
        description=(
            gettext_lazy(
                "Send `encryptedData` and `iv` of `wx.getGroupEnterInfo` from the event's page "
                "opened from the card in the group chat. Joins the community of that WeChat group "
                "as `POST /communities/join/share-ticket` does (rules, approval and bans apply). "
                "`landing_path` is the event's page, or null while the membership waits for "
                "approval. A card forwarded into another group answers 404."
            )
        ),
        request=EventJoinIn,
        responses={200: EventLandingOut},
    )
    def post(self, request, event_id: str):
        data = EventJoinIn(data=request.data)
        data.is_valid(raise_exception=True)
        result = landing.event_join_from_share(
            user=request.user, event_id=event_id, **data.validated_data
        )
        body = {
            "community_id": result.membership.community_id,
            "membership_status": result.membership.status,
            "event_id": result.event.pk,
            "landing_path": result.path,
        }
        return Response(EventLandingOut(body).data)
