"""Every community endpoint against every kind of user: who gets what status code.

Roles: a non-member, a member, a moderator, an admin, the owner and a banned member. Objects of
a community you cannot see answer 404; what you can see but may not do answers 403."""

from __future__ import annotations

import pytest

from tests.conftest import client_for
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

ROLES = ["non_member", "member", "moderator", "admin", "owner", "banned"]

# (method, path template, body, expected status per role in ROLES order)
MATRIX = [
    ("get", "/communities/{c}", None, [404, 200, 200, 200, 200, 404]),
    ("patch", "/communities/{c}", {"name": "新名字"}, [404, 403, 403, 200, 200, 404]),
    ("post", "/communities/{c}/leave", None, [404, 204, 204, 204, 409, 404]),
    ("post", "/communities/{c}/rules/accept", {"version": 0}, [404, 200, 200, 200, 200, 404]),
    ("post", "/communities/{c}/invite-code/regenerate", None, [404, 403, 403, 200, 200, 404]),
    ("get", "/communities/{c}/members", None, [404, 200, 200, 200, 200, 404]),
    ("post", "/communities/{c}/members/{t}/mute", None, [404, 403, 200, 200, 200, 404]),
    ("post", "/communities/{c}/members/{t}/ban", None, [404, 403, 200, 200, 200, 404]),
    ("post", "/communities/{c}/members/{p}/approve", None, [404, 403, 200, 200, 200, 404]),
    (
        "post",
        "/communities/{c}/members/{t}/tier",
        {"tier": "moderator"},
        [404, 403, 403, 200, 200, 404],
    ),
]


def _client_for_role(role: str, community):
    if role == "non_member":
        return client_for(UserFactory())
    if role == "banned":
        membership = MembershipFactory(community=community, status="banned")
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
