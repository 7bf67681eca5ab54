"""A bounded schemathesis run of every operation of ``openapi.yaml`` against a live server.

The server (pytest-django's ``live_server``) runs on PostgreSQL with seeded data: a community
with an owner, an admin, a member and moderation targets, one open poll of each kind (one of them
secret) and a closed one, published surveys (named with published results, anonymous) and the
fake WeChat server. Path parameters are drawn from the seeded ids, so requests reach the
services; tokens are a real member's and a real admin's. Destructive operations get their own
objects: logout a fresh token, leaving a fresh member, moderation the targets.

Every response is checked: no server error, status code and ``code`` documented, body and
content type as documented. All failures are collected and listed together.
"""

from __future__ import annotations

import base64
import time
from datetime import timedelta
from pathlib import Path

import pytest
import schemathesis
from django.db import connection
from django.utils import timezone
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from community.models import MembershipStatus, Tier
from community.services.tokens import token_issue
from polls import services as poll_services
from roles.services import boards as board_services
from roles.services import tasks_edit
from surveys.models import SurveyStatus
from tests.contract.schema import load_yaml
from tests.factories import CommunityFactory, MembershipFactory
from tests.surveys.factories import basic_questions, make_survey
from tests.wechat_fake import wechat_json

ROOT = Path(__file__).resolve().parents[2]
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
#: Examples per operation: about 160 operations x 5 keep the run near a minute and a half on
#: two busy cores (10 took three minutes, 20 seven, a third of the whole suite). Every
#: operation still runs (asserted below); the bad-input tests (tests/contract/test_bad_requests.py
#: and each app's) cover wrong types, missing fields and other communities' ids deliberately.
MAX_EXAMPLES = 5
JPEG = base64.b64decode("/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=")

pytestmark = pytest.mark.django_db(transaction=True)


def _bearer(user) -> str:
    return f"Bearer {token_issue(user=user).raw}"


def _seed() -> dict:
    community = CommunityFactory(rules_text="友善交流", rules_version=1)
    owner = MembershipFactory(community=community, tier=Tier.OWNER)
    admin = MembershipFactory(community=community, tier=Tier.ADMIN)
    member = MembershipFactory(community=community, tier=Tier.MEMBER)
    targets = [
        MembershipFactory(community=community, status=status)
        for status in (
            MembershipStatus.ACTIVE,
            MembershipStatus.PENDING,
            MembershipStatus.MUTED,
            MembershipStatus.BANNED,
        )
    ]
    closes = timezone.now() + timedelta(days=3)
    polls = []
    for kind, extra in [
        ("single", {}),
        ("multiple", {"min_selections": 1, "max_selections": 2}),
        ("ranked", {"secret": True}),
        ("score", {"min_score": 1, "max_score": 5}),
        ("proposal", {}),
        ("time", {}),
    ]:
        if kind == "proposal":
            options = []
        elif kind == "time":
            start = timezone.now() + timedelta(days=5)
            options = [{"label": "", "starts_at": start + timedelta(hours=i)} for i in range(3)]
        else:
            options = [{"label": label} for label in ("爬山", "桌游", "电影")]
        polls.append(
            poll_services.poll_create(
                actor=owner,
                title=f"{kind} poll",
                kind=kind,
                options=options,
                closes_at=closes,
                **extra,
            )
        )
    closed = poll_services.poll_create(
        actor=owner,
        title="closed",
        kind="single",
        options=[{"label": "A"}, {"label": "B"}],
        closes_at=closes,
    )
    poll_services.poll_close(actor=owner, poll_id=closed.pk)
    polls.append(closed)
    surveys = [
        make_survey(community, basic_questions(), publish_results=True),
        make_survey(community, basic_questions(), anonymous=True, allow_edit_after_submit=True),
        make_survey(community, basic_questions(), status=SurveyStatus.DRAFT),
    ]
    board = board_services.board_create(actor=owner, title="看板")
    columns = list(board.columns.order_by("position"))
    tasks = [
        tasks_edit.task_create(
            actor=owner, board=board, title=f"任务{i}", assignee_ids=[member.user_id], slots_total=i
        )
        for i in range(3)
    ]
    item = tasks_edit.checklist_item_add(actor=owner, task=tasks[0], title="步骤")
    return {
        "boards": [board],
        "columns": columns,
        "tasks": tasks,
        "items": [item],
        "community": community,
        "admin": admin,
        "member": member,
        "targets": targets,
        "polls": polls,
        "surveys": surveys,
    }


@pytest.fixture
def fake_wechat(wechat_server):
    """WeChat answers every call the API makes: unknown login codes, a passing content check,
    a JPEG mini-program code."""
    wechat_server.expect_request("/sns/jscode2session").respond_with_response(
        wechat_json({"errcode": 40029, "errmsg": "invalid code"})
    )
    wechat_server.expect_request("/wxa/msg_sec_check", method="POST").respond_with_json(
        {"errcode": 0, "errmsg": "ok", "result": {"suggest": "pass", "label": 100}}
    )
    wechat_server.expect_request("/wxa/getwxacodeunlimit", method="POST").respond_with_data(
        JPEG, content_type="image/jpeg"
    )
    return wechat_server


@pytest.fixture
def configured_throttles():
    """The throttle rates of the test settings and empty counters. DRF binds
    ``SimpleRateThrottle.THROTTLE_RATES`` once, so a test that lowered the rates earlier in the
    run would otherwise leave this run answering 429."""
    from django.core.cache import cache
    from rest_framework.settings import api_settings
    from rest_framework.throttling import SimpleRateThrottle

    previous = SimpleRateThrottle.THROTTLE_RATES
    SimpleRateThrottle.THROTTLE_RATES = api_settings.DEFAULT_THROTTLE_RATES
    cache.clear()
    yield
    SimpleRateThrottle.THROTTLE_RATES = previous
    cache.clear()


def _path_strategies(seed: dict) -> dict[str, st.SearchStrategy]:
    return {
        "community_id": st.just(seed["community"].pk),
        "poll_id": st.sampled_from([p.pk for p in seed["polls"]]),
        "survey_id": st.sampled_from([s.pk for s in seed["surveys"]]),
        "member_id": st.sampled_from([t.pk for t in seed["targets"]]),
        "board_id": st.sampled_from([b.pk for b in seed["boards"]]),
        "column_id": st.sampled_from([c.pk for c in seed["columns"]]),
        "task_id": st.sampled_from([t.pk for t in seed["tasks"]]),
        "item_id": st.sampled_from([i.pk for i in seed["items"]]),
    }


#: Path parameters without seeded objects: an id that names nothing (404, documented).
UNKNOWN_ID = st.just("Unknown23456")


def _token_for(operation, seed: dict, data) -> str:
    """A member's or the admin's token; a fresh one (or a fresh member) where the operation
    would otherwise spoil the others' tokens or memberships."""
    path = operation.path
    if path.endswith("/auth/logout"):
        return _bearer(seed["member"].user)
    if path.endswith("/leave"):
        return _bearer(MembershipFactory(community=seed["community"]).user)
    actor = data.draw(st.sampled_from(["member", "admin"]), label="as")
    return _bearer(seed[actor].user)


def _run_operation(operation, seed, base_url, path_strategies, failures, statuses) -> int:
    """Run ``MAX_EXAMPLES`` generated cases of one operation; return how many ran."""
    label = f"{operation.method.upper()} {operation.path}"
    names = [p.name for p in operation.path_parameters]
    fixed = st.fixed_dictionaries({name: path_strategies.get(name, UNKNOWN_ID) for name in names})
    cases = fixed.flatmap(lambda params: operation.as_strategy(path_parameters=params))
    ran = []

    @hypothesis_settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=cases, data=st.data())
    def run(case, data):
        headers = {"Authorization": _token_for(operation, seed, data)}
        response = case.call(base_url=base_url, headers=headers, timeout=60)
        ran.append(response.status_code)
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        try:
            case.validate_response(response, checks=CHECKS, headers=headers)
        except (AssertionError, FailureGroup) as exc:  # collect every failure, report them all
            failures.append(
                f"{label} -> {response.status_code}: {type(exc).__name__}: "
                f"{str(exc)[:600]}\n  request: {case.as_curl_command()[:400]}\n"
                f"  response: {response.text[:300]}"
            )

    run()
    return len(ran)


# About 160 operations at 5 examples each: minutes on a quiet machine, more under load, so
# this run has its own limit above the suite's 300 s.
@pytest.mark.timeout(1200)
def test_every_operation_conforms_to_the_contract(
    live_server, fake_wechat, configured_throttles, settings
):
    settings.DEBUG = False
    seed = _seed()
    connection.close()  # the live server's threads open their own connections
    raw = load_yaml((ROOT / "openapi.yaml").read_text())
    schema = schemathesis.openapi.from_dict(raw)
    path_strategies = _path_strategies(seed)
    failures: list[str] = []
    counts: dict[str, int] = {}
    statuses: dict[int, int] = {}
    started = time.monotonic()

    operations = [result.ok() for result in schema.get_all_operations()]
    for operation in operations:
        label = f"{operation.method.upper()} {operation.path}"
        counts[label] = _run_operation(
            operation, seed, live_server.url, path_strategies, failures, statuses
        )

    elapsed = time.monotonic() - started
    total = sum(counts.values())
    print(
        f"\nschemathesis: {len(operations)} operations, {total} cases in {elapsed:.0f}s; "
        f"statuses {dict(sorted(statuses.items()))}; {len(failures)} failures"
    )
    assert len(operations) == len(counts) and all(counts.values()), counts
    assert not failures, f"{len(failures)} failures:\n" + "\n".join(failures[:40])
