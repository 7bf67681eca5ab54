"""The member flow through the TypeScript SDK in Node, against a live server on PostgreSQL.

Python prepares what a moderator would have prepared (a community with rules, an open poll of
each kind, a published survey, an event); the Node test (clients/miniprogram/test/flow.test.ts,
node's built-in runner) then logs in through the fake WeChat server, joins by invite, accepts
the rules, votes in every poll kind, changes a vote, answers the survey, signs up for the event
and is silently logged in again after its token is revoked. Every 2xx answer is validated
against its schema in openapi.yaml with ajv."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
from datetime import timedelta

import pytest
from django.utils import timezone
from werkzeug import Request, Response

from community.models import Tier
from events import services as event_services
from polls import services as poll_services
from tests.factories import CommunityFactory, MembershipFactory
from tests.sdk.conftest import SDK
from tests.surveys.factories import basic_questions, make_survey

pytestmark = pytest.mark.django_db(transaction=True)

KINDS = ("single", "multiple", "ranked", "score", "proposal", "time")


@pytest.fixture
def prepared(wechat_server, settings):
    settings.WECHAT_CONTENT_CHECK = False
    codes = itertools.count(1)

    def code2session(request: Request) -> Response:
        # Every wx.login code of the flow belongs to the same WeChat user.
        assert request.args["js_code"].startswith("flow-code-")
        return Response(
            json.dumps({"openid": "o-sdk-flow", "session_key": f"c2Vzc2lvbi0{next(codes)}"}),
            content_type="application/json",
        )

    wechat_server.expect_request("/sns/jscode2session", method="GET").respond_with_handler(
        code2session
    )
    community = CommunityFactory(rules_text="友善交流", rules_version=2)
    moderator = MembershipFactory(community=community, tier=Tier.MODERATOR)
    closes_at = timezone.now() + timedelta(days=2)
    polls = {}
    for kind in KINDS:
        options: list[dict] = []
        if kind == "time":
            start = timezone.now() + timedelta(days=5)
            options = [
                {"label": f"T{i}", "starts_at": start + timedelta(hours=i)} for i in range(3)
            ]
        elif kind != "proposal":
            options = [{"label": label} for label in ("甲", "乙", "丙")]
        extra = {"min_selections": 1, "max_selections": 2} if kind == "multiple" else {}
        poll = poll_services.poll_create(
            actor=moderator,
            title=f"{kind} poll",
            kind=kind,
            options=options,
            closes_at=closes_at,
            **extra,
        )
        polls[kind] = poll.id
    survey = make_survey(community, basic_questions())
    event = event_services.event_create(
        actor=moderator,
        title="周六爬山",
        starts_at=timezone.now() + timedelta(days=3),
        max_guests=2,
    )
    return {
        "invite_code": community.invite_code,
        "community_id": community.id,
        "polls": polls,
        "survey_id": survey.id,
        "event_id": event.id,
    }


@pytest.mark.timeout(600)
def test_member_flow_through_the_sdk_against_a_live_server(
    sdk_test_build, node, live_server, prepared
):
    """Fails when any step of the flow answers an error, an answer does not match its schema in
    openapi.yaml, or the silent re-login does not recover from a revoked token."""
    env = {
        **os.environ,
        "WXC_BASE_URL": live_server.url,
        "WXC_FLOW": json.dumps(prepared),
        "WXC_OPENAPI": str(SDK.parents[1] / "openapi.yaml"),
    }
    done = subprocess.run(
        [node, "--test", "--test-reporter=spec", str(sdk_test_build / "test" / "flow.test.js")],
        cwd=SDK,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
