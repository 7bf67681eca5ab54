"""The rules page, the suggestions per kind of group, and the newcomers of the week."""

from __future__ import annotations

from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from community.api.serializers import UserOut
from community.authz import Action, require, visible_membership
from community.models import CommunityKind, JoinPolicy
from community.pagination import cursor_pagination
from community.selectors_newcomers import newcomers_of_the_week
from community.selectors_rules import community_templates, rules_page
from community.timezones import community_time


class RulesSectionOut(serializers.Serializer):
    title = serializers.CharField(
        help_text=gettext_lazy("Empty for the text before the first heading.")
    )
    body = serializers.CharField()


class RulesPageOut(serializers.Serializer):
    community_id = serializers.CharField()
    name = serializers.CharField()
    kind = serializers.ChoiceField(choices=CommunityKind.choices)
    kind_label = serializers.CharField(help_text=gettext_lazy("The kind of group, in words."))
    purpose = serializers.CharField()
    version = serializers.IntegerField(help_text=gettext_lazy("0: the community has no rules yet."))
    summary = serializers.CharField(
        help_text=gettext_lazy("What changed in this version (may be empty).")
    )
    published_at = serializers.DateTimeField(allow_null=True)
    accepted = serializers.BooleanField(help_text=gettext_lazy("I accepted this version."))
    sections = RulesSectionOut(many=True)
    first_steps = serializers.ListField(
        child=serializers.CharField(),
        help_text=gettext_lazy("The three things a newcomer does first."),
    )
    warning_rule = serializers.CharField(
        help_text=gettext_lazy(
            "The community's warning rule in one sentence (how many warnings within how many "
            "days mute a member, and for how long), shown with the rules."
        )
    )


class TemplateSettingsOut(serializers.Serializer):
    join_policy = serializers.ChoiceField(choices=JoinPolicy.choices)
    members_can_create_polls = serializers.BooleanField()
    members_can_create_events = serializers.BooleanField()


class CommunityTemplateOut(serializers.Serializer):
    kind = serializers.ChoiceField(choices=CommunityKind.choices)
    label = serializers.CharField()
    purpose = serializers.CharField()
    rules_text = serializers.CharField()
    sections = RulesSectionOut(many=True)
    settings = TemplateSettingsOut(
        help_text=gettext_lazy("Settings applied with the kind when creating a community.")
    )


class CommunityTemplatesOut(serializers.Serializer):
    templates = CommunityTemplateOut(
        many=True, help_text=gettext_lazy("One per kind: work, study, interest.")
    )


class NewcomerOut(serializers.Serializer):
    id = serializers.CharField(help_text=gettext_lazy("The membership id."))
    user = UserOut()
    joined_at = serializers.DateTimeField()
    rules_accepted = serializers.SerializerMethodField()

    def get_rules_accepted(self, obj) -> bool:
        return obj.rules_accepted_version >= obj.community.rules_version


class RulesPageView(APIView):
    @extend_schema(
        operation_id="getRulesPage",
        tags=["communities"],
        summary=gettext_lazy("The group rules page"),
        description=gettext_lazy(
            "The community's kind and purpose, the rules in sections (a rules line starting "
            'with "#" begins one), the current version with its change summary, whether I '
            "accepted it, and a newcomer's three first steps."
        ),
        responses={200: RulesPageOut},
    )
    def get(self, request, community_id: str):
        membership = visible_membership(request.user, community_id)
        with community_time(membership.community):
            return Response(RulesPageOut(rules_page(viewer=membership)).data)


class CommunityTemplatesView(APIView):
    @extend_schema(
        operation_id="listCommunityTemplates",
        tags=["communities"],
        summary=gettext_lazy("Suggested rules and settings per kind of group"),
        description=gettext_lazy(
            "Work, study and interest groups; creating a community with a `kind` applies them."
        ),
        responses={200: CommunityTemplatesOut},
    )
    def get(self, request):
        return Response(CommunityTemplatesOut({"templates": community_templates()}).data)


class NewcomersView(GenericAPIView):
    serializer_class = NewcomerOut
    pagination_class = cursor_pagination("-joined_at", "pk")

    @extend_schema(
        operation_id="listNewcomersOfTheWeek",
        tags=["members"],
        summary=gettext_lazy("Newcomers of the week"),
        description=gettext_lazy(
            "Members who joined in the last seven days, newest first. Admin tiers and holders "
            "of the welcome-newcomers capability (403 `tier_too_low`)."
        ),
        responses={200: NewcomerOut(many=True)},
    )
    def get(self, request, community_id: str):
        viewer = require(request.user, community_id, Action.VIEW_NEWCOMERS)
        page = self.paginate_queryset(newcomers_of_the_week(viewer=viewer))
        with community_time(viewer.community):
            return self.get_paginated_response(NewcomerOut(page, many=True).data)
