"""The lucky draws API: members see draws, join them, find their entry and claim a prize; the
organizer starts, draws now, reads and exports the named list; anyone recomputes a draw from
its publication."""

from __future__ import annotations

from django.http import HttpResponse
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.generics import GenericAPIView
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from community.authz import Action, require, visible_object
from community.errors import NotFound
from community.openapi import COMMUNITY_ID
from community.pagination import cursor_pagination
from community.throttling import WriteThrottle
from community.timezones import community_time
from games import selectors, services
from games.models import Draw
from games.serializers import (
    ClaimOut,
    DrawCardOut,
    DrawIn,
    DrawOut,
    EntryRowOut,
    PublicationOut,
)

TAGS = ["draws"]
_DRAW_ID = OpenApiParameter(
    "draw_id", str, OpenApiParameter.PATH, description=gettext_lazy("Lucky draw id")
)
ORGANIZERS = gettext_lazy(
    "The draw's organizer, the admin tiers and holders of the manage-events capability "
    "(403 `tier_too_low`)."
)
CSV = OpenApiResponse(response=bytes, description=gettext_lazy("CSV file (UTF-8 with BOM)"))
PROCEDURE_TEXT = gettext_lazy(
    "Procedure wxc-draw/v1: commitment = SHA-256(seed); the entry list is the entry ids "
    "ascending, its hash SHA-256 of the ids joined by newlines; each entry not excluded scores "
    "HMAC-SHA256(key = seed, message = entry id); entries ranked by score ascending fill the "
    "round's slots in prize order. Round 1 draws every prize; a later round redraws the prizes "
    "forfeited in the round before and excludes every earlier winner."
)
CREATE_EXAMPLE = OpenApiExample(
    "Lucky draw",
    request_only=True,
    value={
        "title": "年会抽奖",
        "prizes": [
            {"name": "一等奖 蓝牙耳机", "quantity": 1},
            {"name": "二等奖 保温杯", "quantity": 3},
        ],
        "closes_at": "2026-12-31T20:00:00+08:00",
        "source": "joined",
        "claim_hours": 72,
        "exclude_recent_winners_days": 30,
    },
)


class CsvRenderer(BaseRenderer):
    """Lets a client that asks for ``text/csv`` only be served; errors stay JSON."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if isinstance(data, bytes | str):
            return data
        return JSONRenderer().render(data)


def _draw(user, draw_id: str):
    found = visible_object(Draw, user=user, object_id=draw_id)
    if found is None:
        raise NotFound(_("Draw not found."), code="draw_not_found")
    return found


def _detail(viewer, draw) -> dict:
    with community_time(viewer.community):
        return DrawOut(selectors.draw_detail(viewer=viewer, draw=draw)).data


class DrawListView(GenericAPIView):
    serializer_class = DrawCardOut
    pagination_class = cursor_pagination("-created_at", "id")
    throttle_classes = [WriteThrottle]

    @extend_schema(
        operation_id="listDraws",
        tags=TAGS,
        summary=gettext_lazy("Lucky draws"),
        description=gettext_lazy(
            "The community's draws, newest first, with whether I joined and the prize I won. "
            "Cursor-paginated."
        ),
        parameters=[COMMUNITY_ID],
        responses={200: DrawCardOut(many=True)},
    )
    def get(self, request, community_id: str):
        viewer = require(request.user, community_id, Action.VIEW)
        page = self.paginate_queryset(selectors.draw_list(viewer=viewer))
        with community_time(viewer.community):
            return self.get_paginated_response(DrawCardOut(page, many=True).data)

    @extend_schema(
        operation_id="createDraw",
        tags=TAGS,
        summary=gettext_lazy("Start a lucky draw"),
        description=format_lazy(
            "{}{}",
            gettext_lazy(
                "Round 1's commitment is published at once. Who may enter: every active "
                "member, a poll's voters, a named survey's respondents, an event's confirmed "
                "or checked-in attendees, members who join, or a quiz's members with at least "
                "`min_points` points. 400 `survey_anonymous`, `survey_not_a_quiz`, "
                "`source_not_found`, `min_points_not_expected`, `member_not_found`, "
                "`closes_in_past`. "
            ),
            gettext_lazy(
                "The admin tiers and holders of the manage-events capability (403 `tier_too_low`)."
            ),
        ),
        parameters=[COMMUNITY_ID],
        request=DrawIn,
        responses={201: DrawOut},
        examples=[CREATE_EXAMPLE],
    )
    def post(self, request, community_id: str):
        actor = require(request.user, community_id, Action.VIEW)
        data = DrawIn(data=request.data)
        data.is_valid(raise_exception=True)
        draw = services.draw_create(actor=actor, **data.validated_data)
        return Response(_detail(actor, draw), status=status.HTTP_201_CREATED)


class DrawDetailView(GenericAPIView):
    serializer_class = DrawOut

    @extend_schema(
        operation_id="getDraw",
        tags=TAGS,
        summary=gettext_lazy("A lucky draw"),
        description=gettext_lazy(
            "The prizes, every round's commitment (and seed once drawn), the result by entry "
            "id, and my state: my entry id, whether I am in, my prize and its claim deadline. "
            "Status follows from the clock."
        ),
        parameters=[_DRAW_ID],
        responses={200: DrawOut},
    )
    def get(self, request, draw_id: str):
        draw, viewer = _draw(request.user, draw_id)
        return Response(_detail(viewer, draw))


class DrawEntryView(GenericAPIView):
    serializer_class = DrawOut
    throttle_classes = [WriteThrottle]

    @extend_schema(
        operation_id="joinDraw",
        tags=TAGS,
        summary=gettext_lazy("Join the draw"),
        description=gettext_lazy(
            "Idempotent, while entries are open, for draws members join "
            "(409 `draw_not_joinable`, `draw_closed`)."
        ),
        parameters=[_DRAW_ID],
        request=None,
        responses={200: DrawOut},
    )
    def put(self, request, draw_id: str):
        _found, viewer = _draw(request.user, draw_id)
        draw = services.draw_join(actor=viewer, draw_id=draw_id)
        return Response(_detail(viewer, draw))

    @extend_schema(
        operation_id="leaveDraw",
        tags=TAGS,
        summary=gettext_lazy("Leave the draw"),
        description=gettext_lazy("Idempotent, while entries are open."),
        parameters=[_DRAW_ID],
        responses={200: DrawOut},
    )
    def delete(self, request, draw_id: str):
        _found, viewer = _draw(request.user, draw_id)
        draw = services.draw_leave(actor=viewer, draw_id=draw_id)
        return Response(_detail(viewer, draw))


class DrawNowView(GenericAPIView):
    serializer_class = DrawOut
    throttle_classes = [WriteThrottle]

    @extend_schema(
        operation_id="drawNow",
        tags=TAGS,
        summary=gettext_lazy("Draw now"),
        description=format_lazy(
            "{}{}",
            gettext_lazy(
                "Closes entries, freezes the entry list and draws round 1; the seed is "
                "revealed and winners are notified once. Without it the draw happens by "
                "itself after entries close. 409 `draw_already_drawn`, `draw_no_entries`. "
            ),
            ORGANIZERS,
        ),
        parameters=[_DRAW_ID],
        request=None,
        responses={200: DrawOut},
    )
    def post(self, request, draw_id: str):
        _found, viewer = _draw(request.user, draw_id)
        draw = services.draw_perform(actor=viewer, draw_id=draw_id)
        return Response(_detail(viewer, draw))


class ClaimView(GenericAPIView):
    serializer_class = ClaimOut
    throttle_classes = [WriteThrottle]

    @extend_schema(
        operation_id="claimDrawPrize",
        tags=TAGS,
        summary=gettext_lazy("Claim my prize"),
        description=gettext_lazy(
            "Idempotent, before the claim deadline; after it the prize is redrawn in a new "
            "round. 409 `no_prize_to_claim`, `claim_window_passed`."
        ),
        parameters=[_DRAW_ID],
        request=None,
        responses={200: ClaimOut},
    )
    def post(self, request, draw_id: str):
        _found, viewer = _draw(request.user, draw_id)
        winner = services.winner_claim(actor=viewer, draw_id=draw_id)
        with community_time(viewer.community):
            return Response(ClaimOut(winner).data)


class PublicationView(GenericAPIView):
    serializer_class = PublicationOut

    @extend_schema(
        operation_id="getDrawPublication",
        tags=TAGS,
        summary=gettext_lazy("The draw's publication, to recompute it"),
        description=format_lazy(
            "{} {}",
            gettext_lazy(
                "One document, not paginated: the frozen entry list, the prizes and every "
                "round's commitment, seed, slots, exclusions and winners. Recompute it with "
                "`manage.py draw_verify --file` or games/verify.py."
            ),
            PROCEDURE_TEXT,
        ),
        parameters=[_DRAW_ID],
        responses={200: PublicationOut},
    )
    def get(self, request, draw_id: str):
        draw, _viewer = _draw(request.user, draw_id)
        return Response(PublicationOut(selectors.draw_publication(draw=draw)).data)


class EntryListView(GenericAPIView):
    serializer_class = EntryRowOut
    pagination_class = cursor_pagination("entry_id")

    @extend_schema(
        operation_id="listDrawEntries",
        tags=TAGS,
        summary=gettext_lazy("The named entry list"),
        description=format_lazy(
            "{}{}",
            gettext_lazy(
                "Who is behind each entry id and what they won. 409 `draw_not_drawn` before "
                "the list is frozen. "
            ),
            ORGANIZERS,
        ),
        parameters=[_DRAW_ID],
        responses={200: EntryRowOut(many=True)},
    )
    def get(self, request, draw_id: str):
        draw, viewer = _draw(request.user, draw_id)
        page = self.paginate_queryset(selectors.entry_list(viewer=viewer, draw=draw))
        return self.get_paginated_response(EntryRowOut(page, many=True).data)


class EntryCsvView(APIView):
    renderer_classes = [JSONRenderer, CsvRenderer]

    @extend_schema(
        operation_id="exportDrawEntries",
        tags=TAGS,
        summary=gettext_lazy("The named entry list as CSV"),
        description=format_lazy(
            "{}{}",
            gettext_lazy("409 `draw_not_drawn` before the list is frozen. "),
            ORGANIZERS,
        ),
        parameters=[_DRAW_ID],
        responses={(200, "text/csv"): CSV},
    )
    def get(self, request, draw_id: str):
        draw, viewer = _draw(request.user, draw_id)
        text = selectors.entries_csv(viewer=viewer, draw=draw)
        response = HttpResponse("\ufeff" + text, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="draw-{draw.pk}.csv"'
        return response
