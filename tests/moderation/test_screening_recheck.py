"""The ``moderation-recheck`` job, with a frozen clock, against the fake WeChat server going
from down (HTTP 500, timeouts) to up: texts held because WeChat could not be reached are
released when they pass, wait for a moderator when WeChat asks for a review, stay hidden
with the case marked when risky; never asked inside a transaction, once per hold and run."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.utils import timezone

from community.models import User
from community.schedule import JOBS
from moderation.models import Case, ContentHold
from moderation.services.screening import screening_recheck_due
from tests.factories import MembershipFactory
from tests.wechat_fake import wechat_json

pytestmark = pytest.mark.django_db

CHECK = "/wxa/msg_sec_check"
RECHECK = next(job for job in JOBS if job.name == "moderation-recheck")


class FakeCheck:
    """The fake server's content check, switchable: ``suggest`` is pass/review/risky, None
    (down: HTTP 500) or "timeout" (answers after the client gave up). Records every call
    and whether the caller's connection had a transaction open."""

    def __init__(self, wechat_server):
        self.suggest: str | None = None
        self.calls: list[str] = []
        self.in_transaction: list[int] = []
        self._connection = connections[DEFAULT_DB_ALIAS]
        self._base = len(connection.atomic_blocks)
        wechat_server.expect_request(CHECK, method="POST").respond_with_handler(self)

    def __call__(self, request):
        self.in_transaction.append(len(self._connection.atomic_blocks) - self._base)
        self.calls.append(json.loads(request.get_data())["content"])
        if self.suggest is None:
            return wechat_json({}, status=500)
        if self.suggest == "timeout":
            time.sleep(0.5)
            return wechat_json({"errcode": 0, "result": {"suggest": "pass"}})
        return wechat_json({"errcode": 0, "errmsg": "ok", "result": {"suggest": self.suggest}})


@pytest.fixture
def check(wechat_server, settings):
    settings.WECHAT_CONTENT_CHECK = True
    settings.WECHAT_TIMEOUT = 0.2
    return FakeCheck(wechat_server)


@pytest.fixture
def admin(make_member):
    return make_member(tier="admin")


def create_poll(client, community, title="周末去哪"):
    response = client.post(
        f"/api/v1/communities/{community.pk}/polls",
        {
            "title": title,
            "kind": "single",
            "closes_at": (timezone.now() + timedelta(days=1)).isoformat(),
            "options": [{"label": "爬山"}, {"label": "看展"}],
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    return response.json()["id"]


def hold_of(target_id):
    return ContentHold.objects.filter(target_id=target_id).first()


def case_of(target_id):
    return Case.objects.get(target_id=target_id)


def test_held_while_down_released_once_wechat_answers_pass(check, community, admin, member):
    (_, author), (_, reader) = admin, member
    poll_id = create_poll(author, community)
    assert hold_of(poll_id).why == "unchecked"
    t0 = timezone.now() + timedelta(minutes=1)

    RECHECK.delay(now=t0)  # still down: stays held, tried once
    assert hold_of(poll_id).why == "unchecked" and hold_of(poll_id).rechecked_at == t0
    assert reader.get(f"/api/v1/polls/{poll_id}").status_code == 404

    check.suggest = "pass"
    calls = len(check.calls)
    RECHECK.delay(now=t0 + timedelta(minutes=2))  # tried 2 minutes ago: left for later
    assert len(check.calls) == calls and hold_of(poll_id) is not None

    RECHECK.delay(now=t0 + timedelta(minutes=5))
    assert hold_of(poll_id) is None
    case = case_of(poll_id)
    assert (case.status, case.decision, case.decided_by_id) == ("decided", "restore", None)
    assert reader.get(f"/api/v1/polls/{poll_id}").status_code == 200
    texts = check.calls[calls:]
    assert texts == ["周末去哪", "爬山\n看展"]  # the title and the options (no description)
    assert set(check.in_transaction) == {0}

    calls = len(check.calls)
    RECHECK.delay(now=t0 + timedelta(minutes=10))  # nothing left: no call
    assert len(check.calls) == calls


def test_a_timeout_is_down_too(check, community, admin):
    poll_id = create_poll(admin[1], community)
    check.suggest = "timeout"
    assert screening_recheck_due(now=timezone.now() + timedelta(minutes=1)) == 0
    assert hold_of(poll_id).why == "unchecked"
    check.suggest = "pass"
    assert screening_recheck_due(now=timezone.now() + timedelta(minutes=6)) == 1
    assert hold_of(poll_id) is None


@pytest.mark.parametrize(("suggest", "why"), [("review", "review"), ("risky", "risky")])
def test_review_waits_for_a_moderator_and_risky_stays_hidden_with_its_case_marked(
    check, community, admin, member, suggest, why
):
    poll_id = create_poll(admin[1], community)
    check.suggest = suggest
    now = timezone.now() + timedelta(minutes=1)
    assert screening_recheck_due(now=now) == 1
    assert hold_of(poll_id).why == why
    assert case_of(poll_id).status == "open"
    assert member[1].get(f"/api/v1/polls/{poll_id}").status_code == 404
    calls = len(check.calls)
    assert screening_recheck_due(now=now + timedelta(hours=1)) == 0  # not unchecked any more
    assert len(check.calls) == calls


def test_a_run_stops_while_wechat_is_down_and_batches_are_bounded(check, community, admin):
    polls = [create_poll(admin[1], community, title="投票0")]
    per_check = len(check.calls)  # the client's calls (with its retry) for one unreachable text
    polls += [create_poll(admin[1], community, title=f"投票{i}") for i in (1, 2)]
    now = timezone.now() + timedelta(minutes=1)
    calls = len(check.calls)
    assert screening_recheck_due(now=now, batch=2) == 0
    assert len(check.calls) - calls == per_check  # the first hold's first text, then it stops
    check.suggest = "pass"
    assert screening_recheck_due(now=now + timedelta(minutes=5), batch=2) == 2
    assert screening_recheck_due(now=now + timedelta(minutes=5), batch=2) == 1  # the untried one
    assert not ContentHold.objects.filter(target_id__in=polls).exists()


def test_never_releases_what_a_moderator_hid(check, community, admin, make_member):
    poll_id = create_poll(admin[1], community)
    _, moderator = make_member(tier="moderator")
    case = case_of(poll_id)
    response = moderator.post(
        f"/api/v1/moderation-cases/{case.pk}/decision",
        {"decision": "hide", "reason": "广告"},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert hold_of(poll_id).why == "hidden"
    check.suggest = "pass"
    assert screening_recheck_due(now=timezone.now() + timedelta(minutes=1)) == 0
    assert hold_of(poll_id).why == "hidden"


def test_a_held_nickname_is_applied_everywhere_when_the_recheck_passes(check, member):
    membership, client = member
    MembershipFactory(user=membership.user)  # a second community shows the nickname too
    old = membership.user.nickname
    response = client.patch("/api/v1/me", {"nickname": "新名字"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["nickname"] == old
    assert User.objects.get(pk=membership.user_id).nickname == old
    assert ContentHold.objects.filter(target_kind="nickname").count() == 2
    check.suggest = "pass"
    assert screening_recheck_due(now=timezone.now() + timedelta(minutes=1)) == 1
    assert User.objects.get(pk=membership.user_id).nickname == "新名字"
    assert not ContentHold.objects.filter(target_kind="nickname").exists()
    assert not Case.objects.filter(target_kind="nickname", status="open").exists()


def test_a_member_of_no_community_cannot_hold_a_nickname(check, outsider):
    user, client = outsider
    response = client.patch("/api/v1/me", {"nickname": "新名字"}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "content_not_checked"
    assert User.objects.get(pk=user.pk).nickname != "新名字"


def test_switched_off_the_job_releases_nothing(check, community, admin, settings):
    poll_id = create_poll(admin[1], community)
    settings.WECHAT_CONTENT_CHECK = False
    check.suggest = "pass"
    assert screening_recheck_due(now=timezone.now() + timedelta(minutes=1)) == 0
    assert hold_of(poll_id).why == "unchecked"
