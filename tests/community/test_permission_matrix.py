"""Every community endpoint against every kind of user: who gets what status code.

Who: a non-member, a member, a moderator, an admin, the owner, a banned member, and a member
holding a role with every capability of the catalogue (``role_holder``): a role lifts exactly
the actions its capabilities map to (creating polls, approving joins...) and never managing the
community or other members. Objects of a community you cannot see answer 404; what you can see
but may not do answers 403."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from community.authz import Action, can
from polls import services as polls_services
from roles.capabilities import Capability
from tests.conftest import client_for
from tests.factories import CommunityFactory, MembershipFactory, UserFactory
from tests.roles.factories import hold

pytestmark = pytest.mark.django_db

ROLES = ["non_member", "member", "moderator", "admin", "owner", "banned", "role_holder"]

POLL_BODY = {
    "title": "周末去哪",
    "kind": "single",
    "options": [{"label": "爬山"}, {"label": "桌游"}],
    "closes_at": (timezone.now() + timedelta(days=30)).isoformat(),
}

# (method, path template, body, expected status per role in ROLES order)
MATRIX = [
    ("get", "/communities/{c}", None, [404, 200, 200, 200, 200, 404, 200]),
    ("patch", "/communities/{c}", {"name": "新名字"}, [404, 403, 403, 200, 200, 404, 403]),
    ("post", "/communities/{c}/leave", None, [404, 204, 204, 204, 409, 404, 204]),
    ("post", "/communities/{c}/rules/accept", {"version": 0}, [404, 200, 200, 200, 200, 404, 200]),
    ("post", "/communities/{c}/invite-code/regenerate", None, [404, 403, 403, 200, 200, 404, 403]),
    ("get", "/communities/{c}/members", None, [404, 200, 200, 200, 200, 404, 200]),
    ("post", "/communities/{c}/members/{t}/mute", None, [404, 403, 200, 200, 200, 404, 403]),
    ("post", "/communities/{c}/members/{t}/ban", None, [404, 403, 200, 200, 200, 404, 403]),
    ("post", "/communities/{c}/members/{p}/approve", None, [404, 403, 200, 200, 200, 404, 200]),
    (
        "post",
        "/communities/{c}/members/{t}/tier",
        {"tier": "moderator"},
        [404, 403, 403, 200, 200, 404, 403],
    ),
    ("post", "/communities/{c}/polls", POLL_BODY, [404, 403, 201, 201, 201, 404, 201]),
    ("get", "/communities/{c}/roles", None, [404, 200, 200, 200, 200, 404, 200]),
    ("post", "/communities/{c}/roles", {"name": "摄影"}, [404, 403, 403, 201, 201, 404, 403]),
]


def _client_for_role(role: str, community):
    if role == "non_member":
        return client_for(UserFactory())
    if role == "banned":
        membership = MembershipFactory(community=community, status="banned")
    elif role == "role_holder":
        membership = MembershipFactory(community=community)
        hold(membership, *list(Capability))
    else:
        tier = "member" if role == "member" else role
        membership = MembershipFactory(community=community, tier=tier)
    return client_for(membership.user)


@pytest.mark.parametrize(
    ("method", "path", "body", "expected"), MATRIX, ids=[f"{m} {p}" for m, p, _, _ in MATRIX]
)
@pytest.mark.parametrize("role_index", range(len(ROLES)), ids=ROLES)
def test_permission_matrix(community, settings, method, path, body, expected, role_index):
    settings.WECHAT_CONTENT_CHECK = False
    role = ROLES[role_index]
    target = MembershipFactory(community=community)
    pending = MembershipFactory(community=community, status="pending")
    client = _client_for_role(role, community)
    url = "/api/v1" + path.format(c=community.pk, t=target.pk, p=pending.pk)
    response = getattr(client, method)(url, body, format="json")
    assert response.status_code == expected[role_index], response.content
    if response.status_code >= 400:
        error = response.json()
        assert error["type"] in {"client_error", "validation_error"}
        assert error["errors"][0]["detail"]


# --- object-aware rules: what a member may do to one poll ---------------------------------------
# Roles: the poll's author (an ordinary member), another member, a moderator, and the author
# after being muted. The rules live in ``community.authz`` (``Action.MANAGE_POLL`` and friends,
# with ``obj=poll``); every endpoint below and the ``my`` block answer from them.
OBJECT_ROLES = ["author", "member", "moderator", "muted_author"]

OBJECT_MATRIX = [
    ("post", "/polls/{poll}/close", None, [200, 403, 200, 403]),
    ("post", "/polls/{poll}/options", {"label": "新选项"}, [201, 403, 201, 403]),
    ("get", "/polls/{poll}/voters", None, [403, 403, 200, 403]),
    ("get", "/polls/{poll}", None, [200, 200, 200, 200]),
]

# What the detail's ``my`` block and the results say, per role in OBJECT_ROLES order.
MY_CAN_MANAGE = [True, False, True, False]
MY_CAN_ADD_OPTION = [True, False, True, False]
RESULTS_VISIBLE = [True, False, True, True]  # reading early results is not a write: mute allows


@pytest.fixture
def authored_poll(db, settings):
    """A poll written by an ordinary member (the community lets members create polls), whose
    results show only after close."""
    settings.WECHAT_CONTENT_CHECK = False  # unreachable WeChat would hold it (tests/moderation)
    community = CommunityFactory(members_can_create_polls=True)
    author = MembershipFactory(community=community)
    poll = polls_services.poll_create(
        actor=author,
        title="周末去哪",
        kind="single",
        options=[{"label": "爬山"}, {"label": "桌游"}],
        closes_at=timezone.now() + timedelta(days=1),
        results_visibility="after_close",
    )
    return poll, author


def _object_client(role: str, poll, author):
    if role == "author":
        return client_for(author.user)
    if role == "muted_author":
        author.status = "muted"
        author.save(update_fields=["status"])
        return client_for(author.user)
    return client_for(MembershipFactory(community=poll.community, tier=role).user)


@pytest.mark.parametrize(
    ("method", "path", "body", "expected"),
    OBJECT_MATRIX,
    ids=[f"{m} {p}" for m, p, _, _ in OBJECT_MATRIX],
)
@pytest.mark.parametrize("role_index", range(len(OBJECT_ROLES)), ids=OBJECT_ROLES)
def test_object_permission_matrix(authored_poll, method, path, body, expected, role_index):
    poll, author = authored_poll
    client = _object_client(OBJECT_ROLES[role_index], poll, author)
    response = getattr(client, method)("/api/v1" + path.format(poll=poll.pk), body, format="json")
    assert response.status_code == expected[role_index], response.content
    if response.status_code == 403:
        assert response.json()["errors"][0]["code"] in {
            "cannot_manage",
            "options_closed",
            "voters_not_visible",
            "muted",
        }


@pytest.mark.parametrize("role_index", range(len(OBJECT_ROLES)), ids=OBJECT_ROLES)
def test_my_block_and_results_follow_the_object_rules(authored_poll, role_index):
    poll, author = authored_poll
    client = _object_client(OBJECT_ROLES[role_index], poll, author)
    my = client.get(f"/api/v1/polls/{poll.pk}").json()["my"]
    assert my["can_manage"] is MY_CAN_MANAGE[role_index]
    assert my["can_add_option"] is MY_CAN_ADD_OPTION[role_index]
    assert my["can_see_voters"] is (OBJECT_ROLES[role_index] == "moderator")
    results = client.get(f"/api/v1/polls/{poll.pk}/results").json()
    assert results["visible"] is RESULTS_VISIBLE[role_index]


def test_authorship_grants_nothing_in_another_community(authored_poll):
    """An object rule applies only to an object of the member's own community."""
    poll, author = authored_poll
    elsewhere = MembershipFactory(user=author.user)
    assert can(author, Action.MANAGE_POLL, obj=poll)
    assert not can(elsewhere, Action.MANAGE_POLL, obj=poll)
    assert not can(author, Action.MANAGE_POLL)  # without the object: the tier floor alone


def test_tier_message_reads_right_in_english(community):
    """Regression: the English text was "Only a Admin or above can do this."."""
    member = MembershipFactory(community=community)
    response = client_for(member.user).post(
        f"/api/v1/communities/{community.pk}/invite-code/regenerate",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 403
    detail = response.json()["errors"][0]["detail"]
    assert detail == "Only members with the Admin tier or higher can do this."
    zh = client_for(member.user).post(f"/api/v1/communities/{community.pk}/invite-code/regenerate")
    assert zh.json()["errors"][0]["detail"] == "只有管理员及以上等级的成员才能进行此操作。"
