"""The announcements API: members read, follow categories and confirm; the admin tiers and
the content role publish, see who has read and remind once; moderators see the calendar."""

from __future__ import annotations

from datetime import date

from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from announcements import selectors, services
from announcements.models import Announcement, Category
from announcements.serializers import (
    AnnouncementIn,
    AnnouncementListIn,
    AnnouncementOut,
    AnnouncementUpdateIn,
    CalendarIn,
    CalendarOut,
    CategoryIn,
    CategoryOut,
    CategoryUpdateIn,
    ConfirmationOut,
    ReadersOut,
    ReminderOut,
)
from announcements.services.common import announcement_for
from community.authz import Action, ensure, require, visible_object
from community.errors import DomainError, NotFound
from community.openapi import COMMUNITY_ID
from community.pagination import cursor_pagination
from community.throttling import WriteThrottle
from community.timezones import community_time, localize

TAGS = ["announcements"]
_ANNOUNCEMENT_ID = OpenApiParameter(
    "announcement_id", str, OpenApiParameter.PATH, description=gettext_lazy("Announcement id")
)
_CATEGORY_ID = OpenApiParameter(
    "category_id", str, OpenApiParameter.PATH, description=gettext_lazy("Announcement category id")
)
MANAGERS = gettext_lazy(
    "Admin tiers and holders of the publish-content capability (403 `tier_too_low`)."
)
BODY_EXAMPLE = OpenApiExample(
    "Announcement",
    request_only=True,
    value={
        "title": "本周六徒步集合时间调整",
        "body": "<p>集合时间改为 <strong>7:30</strong>，请大家确认。</p>",
        "category_id": None,
        "pinned": True,
        "requires_confirmation": True,
    },
)


def _announcement(user, announcement_id: str):
    found = visible_object(Announcement, user=user, object_id=announcement_id)
    if found is None:
        raise NotFound(_not_found(), code="announcement_not_found")
    return found


def _not_found() -> str:
    from django.utils.translation import gettext as _

    return _("Announcement not found.")


def _category_membership(user, category_id: str):
    found = visible_object(Category, user=user, object_id=category_id)
    if found is None:
        from django.utils.translation import gettext as _

        raise NotFound(_("Category not found."), code="category_not_found")
    return found


def _detail(viewer, announcement_id: str) -> dict:
    """The announcement as ``getAnnouncement`` answers it (writes answer the same): opening it
    records the viewer as a reader; the author counts as having read what they wrote."""
    announcement = announcement_for(viewer=viewer, announcement_id=announcement_id)
    services.announcement_mark_read(membership=viewer, announcement=announcement)
    announcement.read = True
    announcement.confirmed = selectors.confirmed_by(viewer=viewer, announcement=announcement)
    with community_time(viewer.community):
        return AnnouncementOut(announcement).data


class CategoryListView(GenericAPIView):
    serializer_class = CategoryOut
    pagination_class = cursor_pagination("position", "created_at", "id")
    throttle_classes = [WriteThrottle]

    @extend_schema(
        operation_id="listAnnouncementCategories",
        tags=TAGS,
        summary=gettext_lazy("Announcement categories"),
        description=gettext_lazy(
            "In their order, with whether I follow each (members follow all by default)."
        ),
        parameters=[COMMUNITY_ID],
        responses={200: CategoryOut(many=True)},
    )
    def get(self, request, community_id: str):
        viewer = require(request.user, community_id, Action.VIEW)
        page = self.paginate_queryset(selectors.category_list(viewer=viewer))
        return self.get_paginated_response(CategoryOut(page, many=True).data)

    @extend_schema(
        operation_id="createAnnouncementCategory",
        tags=TAGS,
        summary=gettext_lazy("Add an announcement category"),
        description=format_lazy(
            "{}{}", gettext_lazy("409 `category_name_taken` for a name in use. "), MANAGERS
        ),
        parameters=[COMMUNITY_ID],
        request=CategoryIn,
        responses={201: CategoryOut},
    )
    def post(self, request, community_id: str):
        actor = require(request.user, community_id, Action.VIEW)
        data = CategoryIn(data=request.data)
        data.is_valid(raise_exception=True)
        category = services.category_create(actor=actor, **data.validated_data)
        category.following = True
        return Response(CategoryOut(category).data, status=status.HTTP_201_CREATED)


class CategoryDetailView(GenericAPIView):
    serializer_class = CategoryOut
    throttle_classes = [WriteThrottle]

    @extend_schema(
        operation_id="updateAnnouncementCategory",
        tags=TAGS,
        summary=gettext_lazy("Rename or move a category"),
        description=MANAGERS,
        parameters=[_CATEGORY_ID],
        request=CategoryUpdateIn,
        responses={200: CategoryOut},
    )
    def patch(self, request, category_id: str):
        _category, actor = _category_membership(request.user, category_id)
        data = CategoryUpdateIn(data=request.data)
        data.is_valid(raise_exception=True)
        category = services.category_update(
            actor=actor, category_id=category_id, **data.validated_data
        )
        category.following = True
        category = selectors.category_list(viewer=actor).get(pk=category.pk)
        return Response(CategoryOut(category).data)

    @extend_schema(
        operation_id="deleteAnnouncementCategory",
        tags=TAGS,
        summary=gettext_lazy("Delete a category"),
        description=format_lazy(
            "{}{}", gettext_lazy("Its announcements stay, without a category. "), MANAGERS
        ),
        parameters=[_CATEGORY_ID],
        responses={204: None},
    )
    def delete(self, request, category_id: str):
        _category, actor = _category_membership(request.user, category_id)
        services.category_delete(actor=actor, category_id=category_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class CategoryFollowView(GenericAPIView):
    serializer_class = CategoryOut
    throttle_classes = [WriteThrottle]

    @extend_schema(
        operation_id="followAnnouncementCategory",
        tags=TAGS,
        summary=gettext_lazy("Follow a category"),
        description=gettext_lazy("Idempotent. Its announcements show in my list and notify me."),
        parameters=[_CATEGORY_ID],
        request=None,
        responses={200: CategoryOut},
    )
    def put(self, request, category_id: str):
        _category, membership = _category_membership(request.user, category_id)
        category = services.category_follow(
            membership=membership, category_id=category_id, follow=True
        )
        return Response(CategoryOut(category).data)

    @extend_schema(
        operation_id="unfollowAnnouncementCategory",
        tags=TAGS,
        summary=gettext_lazy("Unfollow a category"),
        description=gettext_lazy(
            "Idempotent. Its announcements leave my list and stop notifying me."
        ),
        parameters=[_CATEGORY_ID],
        responses={200: CategoryOut},
    )
    def delete(self, request, category_id: str):
        _category, membership = _category_membership(request.user, category_id)
        category = services.category_follow(
            membership=membership, category_id=category_id, follow=False
        )
        return Response(CategoryOut(category).data)


class AnnouncementListView(GenericAPIView):
    pagination_class = cursor_pagination("-pinned", "-publish_at", "id")
    serializer_class = AnnouncementOut
    throttle_classes = [WriteThrottle]

    @extend_schema(
        operation_id="listAnnouncements",
        tags=TAGS,
        summary=gettext_lazy("Announcements"),
        description=gettext_lazy(
            "Published, unexpired announcements of the categories I follow (and those "
            "without a category), pinned first, then newest; with my read and confirmation "
            "state. Cursor-paginated."
        ),
        parameters=[COMMUNITY_ID, AnnouncementListIn],
        responses={200: AnnouncementOut(many=True)},
    )
    def get(self, request, community_id: str):
        viewer = require(request.user, community_id, Action.VIEW)
        filters = AnnouncementListIn(data=request.query_params)
        filters.is_valid(raise_exception=True)
        qs = selectors.announcement_list(
            viewer=viewer, category_id=filters.validated_data.get("category")
        )
        page = self.paginate_queryset(qs)
        with community_time(viewer.community):
            return self.get_paginated_response(AnnouncementOut(page, many=True).data)

    @extend_schema(
        operation_id="createAnnouncement",
        tags=TAGS,
        summary=gettext_lazy("Publish or schedule an announcement"),
        description=format_lazy(
            "{}{}",
            gettext_lazy(
                "A future `publish_at` schedules it. Title and text pass WeChat's content check "
                "(400 `content_risky`; a review holds it for the moderators). Followers of its "
                "category are notified once, when it is published. "
            ),
            MANAGERS,
        ),
        parameters=[COMMUNITY_ID],
        request=AnnouncementIn,
        responses={201: AnnouncementOut},
        examples=[BODY_EXAMPLE],
    )
    def post(self, request, community_id: str):
        actor = require(request.user, community_id, Action.VIEW)
        with community_time(actor.community):
            data = AnnouncementIn(data=request.data)
            data.is_valid(raise_exception=True)
            announcement = services.announcement_create(actor=actor, **data.validated_data)
        return Response(_detail(actor, announcement.pk), status=status.HTTP_201_CREATED)


class AnnouncementDetailView(GenericAPIView):
    serializer_class = AnnouncementOut
    throttle_classes = [WriteThrottle]

    @extend_schema(
        operation_id="getAnnouncement",
        tags=TAGS,
        summary=gettext_lazy("Read an announcement"),
        description=gettext_lazy("Opening it counts me as a reader (for the read rate)."),
        parameters=[_ANNOUNCEMENT_ID],
        responses={200: AnnouncementOut},
    )
    def get(self, request, announcement_id: str):
        _found, viewer = _announcement(request.user, announcement_id)
        return Response(_detail(viewer, announcement_id))

    @extend_schema(
        operation_id="updateAnnouncement",
        tags=TAGS,
        summary=gettext_lazy("Edit an announcement"),
        description=format_lazy(
            "{}{}", gettext_lazy("Changed texts are screened again. "), MANAGERS
        ),
        parameters=[_ANNOUNCEMENT_ID],
        request=AnnouncementUpdateIn,
        responses={200: AnnouncementOut},
    )
    def patch(self, request, announcement_id: str):
        _found, actor = _announcement(request.user, announcement_id)
        with community_time(actor.community):
            data = AnnouncementUpdateIn(data=request.data, partial=True)
            data.is_valid(raise_exception=True)
            services.announcement_update(
                actor=actor, announcement_id=announcement_id, **data.validated_data
            )
        return Response(_detail(actor, announcement_id))

    @extend_schema(
        operation_id="deleteAnnouncement",
        tags=TAGS,
        summary=gettext_lazy("Delete an announcement"),
        description=MANAGERS,
        parameters=[_ANNOUNCEMENT_ID],
        responses={204: None},
    )
    def delete(self, request, announcement_id: str):
        _found, actor = _announcement(request.user, announcement_id)
        services.announcement_delete(actor=actor, announcement_id=announcement_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ConfirmationView(APIView):
    throttle_classes = [WriteThrottle]

    @extend_schema(
        operation_id="confirmAnnouncementRead",
        tags=TAGS,
        summary=gettext_lazy("Confirm I have read it"),
        description=gettext_lazy(
            "Idempotent: a second confirmation keeps the first time. 409 "
            "`confirmation_not_asked` when the announcement does not ask for it."
        ),
        parameters=[_ANNOUNCEMENT_ID],
        request=None,
        responses={200: ConfirmationOut},
    )
    def put(self, request, announcement_id: str):
        _found, membership = _announcement(request.user, announcement_id)
        read = services.announcement_confirm(membership=membership, announcement_id=announcement_id)
        with community_time(membership.community):
            return Response(ConfirmationOut(read).data)


class ReadersView(APIView):
    @extend_schema(
        operation_id="listAnnouncementReaders",
        tags=TAGS,
        summary=gettext_lazy("Who has and has not confirmed"),
        description=format_lazy(
            "{}{}",
            gettext_lazy("Counts and both lists of members (at most a group's 500). "),
            MANAGERS,
        ),
        parameters=[_ANNOUNCEMENT_ID],
        responses={200: ReadersOut},
    )
    def get(self, request, announcement_id: str):
        _found, actor = _announcement(request.user, announcement_id)
        ensure(actor, Action.MANAGE_ANNOUNCEMENTS)
        announcement = announcement_for(viewer=actor, announcement_id=announcement_id)
        with community_time(actor.community):
            return Response(
                ReadersOut(selectors.announcement_readers(announcement=announcement)).data
            )


class ReminderView(APIView):
    throttle_classes = [WriteThrottle]

    @extend_schema(
        operation_id="remindAnnouncementReaders",
        tags=TAGS,
        summary=gettext_lazy("Remind those who have not confirmed"),
        description=format_lazy(
            "{}{}",
            gettext_lazy("Once per announcement: a second call answers 409 `already_reminded`. "),
            MANAGERS,
        ),
        parameters=[_ANNOUNCEMENT_ID],
        request=None,
        responses={200: ReminderOut},
    )
    def post(self, request, announcement_id: str):
        _found, actor = _announcement(request.user, announcement_id)
        count = services.announcement_remind(actor=actor, announcement_id=announcement_id)
        return Response(ReminderOut({"reminded_count": count}).data)


class CalendarView(APIView):
    @extend_schema(
        operation_id="getContentCalendar",
        tags=TAGS,
        summary=gettext_lazy("Content calendar"),
        description=gettext_lazy(
            "Scheduled and past announcements by ISO week in the community's time zone, with "
            "read and confirmation rates. Moderator tiers and the publish-content capability."
        ),
        parameters=[COMMUNITY_ID, CalendarIn],
        responses={200: CalendarOut},
    )
    def get(self, request, community_id: str):
        actor = require(request.user, community_id, Action.VIEW_CONTENT_CALENDAR)
        data = CalendarIn(data=request.query_params)
        data.is_valid(raise_exception=True)
        week = data.validated_data.get("week")
        if week:
            year, number = week.split("-W")
            try:
                first = date.fromisocalendar(int(year), int(number), 1)
            except ValueError as exc:
                raise DomainError(
                    _("No such ISO week."), code="invalid_week", field="week"
                ) from exc
        else:
            first = localize(timezone.now(), actor.community).date()
        weeks = selectors.content_calendar(
            community=actor.community, first_week=first, weeks=data.validated_data["weeks"]
        )
        with community_time(actor.community):
            return Response(CalendarOut({"weeks": weeks}).data)
