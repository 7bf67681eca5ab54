"""Admin list filters offer only what the staff user may see.

A moderator of two communities must not find the name or id of a third community in the filter
sidebar of any changelist (memberships, polls, surveys). The superuser sees all of them, which
is also the control showing that the filter does list communities."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.factories import CommunityFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

CHANGELISTS = [
    "/admin/community/membership/",
    "/admin/polls/poll/",
    "/admin/surveys/survey/",
]


@pytest.fixture
def communities():
    hiking = CommunityFactory(name="徒步群")
    garden = CommunityFactory(name="园艺群")
    secret = CommunityFactory(name="别人的秘密群")
    return hiking, garden, secret


def _logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize("url", CHANGELISTS)
def test_moderator_filters_list_only_their_communities(communities, url):
    hiking, garden, secret = communities
    staff = UserFactory(is_staff=True)
    MembershipFactory(community=hiking, user=staff, tier="moderator")
    MembershipFactory(community=garden, user=staff, tier="admin")
    MembershipFactory(community=secret, user=staff, tier="member")  # not a moderator there

    page = _logged_in(staff).get(url)
    assert page.status_code == 200
    content = page.content.decode()
    assert f"community__id__exact={hiking.pk}" in content
    assert f"community__id__exact={garden.pk}" in content
    assert secret.name not in content
    assert secret.pk not in content


@pytest.mark.parametrize("url", CHANGELISTS)
def test_superuser_filters_list_every_community(communities, url):
    root = UserFactory(is_staff=True, is_superuser=True)
    content = _logged_in(root).get(url).content.decode()
    for community in communities:
        assert community.name in content
        assert f"community__id__exact={community.pk}" in content


def test_filtering_by_a_foreign_community_shows_nothing_of_it(communities):
    hiking, garden, secret = communities
    staff = UserFactory(is_staff=True)
    MembershipFactory(community=hiking, user=staff, tier="moderator")
    MembershipFactory(community=secret, user__nickname="秘密成员")
    page = _logged_in(staff).get(f"/admin/community/membership/?community__id__exact={secret.pk}")
    content = page.content.decode()
    assert "秘密成员" not in content
    assert secret.name not in content
