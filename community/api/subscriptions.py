"""Subscribe messages, the WeChat way: which templates a page asks for, what I accepted."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from community.models import SubscriptionDecision
from community.services.subscriptions import subscription_credits, subscription_record
from community.subscriptions import MAX_PER_REQUEST, PAGE_CHOICES, templates_for_page
from community.throttling import WriteThrottle

TAGS = ["me"]


class SubscriptionTemplateOut(serializers.Serializer):
    kind = serializers.CharField(help_text=_("The kind of message (`poll_closed`, ...)."))
    template_id = serializers.CharField(help_text=_("Pass it to `wx.requestSubscribeMessage`."))
    purpose = serializers.CharField(help_text=_("What the message is for, to show before asking."))
    long_term = serializers.BooleanField(
        help_text=_("A long-term subscription: one acceptance covers every message.")
    )
    credits = serializers.IntegerField(
        help_text=_("One-time templates: how many messages my acceptances still allow.")
    )
    last_decision = serializers.ChoiceField(
        choices=SubscriptionDecision.choices,
        allow_null=True,
        help_text=_("My last answer for this template; null if never asked."),
    )


class SubscriptionTemplatesOut(serializers.Serializer):
    max_per_request = serializers.IntegerField(
        help_text=_("`wx.requestSubscribeMessage` takes at most this many template ids per call.")
    )
    templates = SubscriptionTemplateOut(many=True)


class SubscriptionTemplatesFilterIn(serializers.Serializer):
    page = serializers.ChoiceField(
        choices=PAGE_CHOICES,
        required=False,
        help_text=_("The mini-program page about to ask; omitted: every template."),
    )


class SubscriptionDecisionsIn(serializers.Serializer):
    results = serializers.DictField(
        child=serializers.ChoiceField(choices=SubscriptionDecision.choices),
        allow_empty=False,
        help_text=(
            _(
                "The success result of `wx.requestSubscribeMessage` without `errMsg`: template id "
                "-> `accept` / `reject` / `ban` / `filter`."
            )
        ),
    )


def _templates_body(user, page: str | None) -> dict:
    credits = subscription_credits(user=user)
    rows = []
    for template in templates_for_page(page):
        credit = credits.get(template.template_id)
        rows.append(
            {
                "kind": template.kind,
                "template_id": template.template_id,
                "purpose": template.purpose,
                "long_term": template.long_term,
                "credits": credit.credits if credit else 0,
                "last_decision": (credit.last_decision or None) if credit else None,
            }
        )
    body = {"max_per_request": MAX_PER_REQUEST, "templates": rows}
    return SubscriptionTemplatesOut(body).data


class SubscriptionsView(APIView):
    throttle_classes = [WriteThrottle]

    @extend_schema(
        operation_id="listSubscriptionTemplates",
        tags=TAGS,
        summary=_("Subscribe-message templates to request on a page"),
        description=(
            _(
                "Which templates the mini-program should pass to `wx.requestSubscribeMessage` on "
                "`page` (at most `max_per_request`), what each is for, and how many messages my "
                "earlier acceptances still allow. A one-time message is sent only against such a "
                "credit: each accept allows one; without one the message is skipped (recorded "
                "`no_credit`), WeChat is not called."
            )
        ),
        parameters=[SubscriptionTemplatesFilterIn],
        responses={200: SubscriptionTemplatesOut},
    )
    def get(self, request):
        filters = SubscriptionTemplatesFilterIn(data=request.query_params)
        filters.is_valid(raise_exception=True)
        return Response(_templates_body(request.user, filters.validated_data.get("page")))

    @extend_schema(
        operation_id="recordSubscriptionDecisions",
        tags=TAGS,
        summary=_("Record what I accepted or refused"),
        description=(
            _(
                "Send the result of `wx.requestSubscribeMessage` as it came back (without "
                "`errMsg`). Each `accept` allows one more message of that template; `ban` (the "
                "template was turned off) clears what was allowed; `reject` and `filter` are "
                "recorded. Answers every template with my credits, as the list without `page` "
                "does. 400 `unknown_template` for a template id this server does not use."
            )
        ),
        request=SubscriptionDecisionsIn,
        responses={200: SubscriptionTemplatesOut},
        examples=[
            OpenApiExample(
                "After wx.requestSubscribeMessage",
                value={"results": {"tmpl-closed-8Yd": "accept", "tmpl-remind-3Kq": "reject"}},
                request_only=True,
            )
        ],
    )
    def post(self, request):
        data = SubscriptionDecisionsIn(data=request.data)
        data.is_valid(raise_exception=True)
        subscription_record(user=request.user, results=data.validated_data["results"])
        return Response(_templates_body(request.user, None))
