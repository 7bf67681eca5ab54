"""Times are shown in the community's own time zone, and admins can change that zone.

The server's zone (``TIME_ZONE``) is Asia/Shanghai. Each test puts the same instants in a
community in America/New_York and checks the literal local time, with Shanghai as the control:
code that used the server's zone shows the +08:00 time instead.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest
from django.test import Client

from community.models import Community, Notification
from community.timezones import time_zone_clean, zone_named
from polls import services as poll_services
from polls.models import Poll
from surveys import services as survey_services
from surveys.models import Response
from tests.conftest import client_for
from tests.factories import CommunityFactory, MembershipFactory
from tests.surveys.factories import make_survey

pytestmark = pytest.mark.django_db

# 17:30 UTC in January: 12:30 in New York (EST, -05:00), 01:30 the next day in Shanghai.
CLOSES = datetime(2031, 1, 15, 17, 30, tzinfo=UTC)
# 16:00 UTC in July: noon in New York (EDT, -04:00), midnight in Shanghai.
SUBMITTED = datetime(2030, 7, 4, 16, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _no_content_check(settings):
    """These tests are about time zones: polls are created without WeChat's content check
    (tests/moderation screens them; with the check on and no WeChat they would be held)."""
    settings.WECHAT_CONTENT_CHECK = False


@pytest.fixture
def new_york():
    return CommunityFactory(name="纽约华人群", time_zone="America/New_York")


@pytest.fixture
def shanghai():
    return CommunityFactory(name="上海群")  # the default zone


def _poll(community, **kwargs):
    moderator = MembershipFactory(community=community, tier="moderator")
    kwargs.setdefault("options", [{"label": "A"}, {"label": "B"}])
    poll = poll_services.poll_create(
        actor=moderator,
        title="周末去哪",
        kind=kwargs.pop("kind", "single"),
        closes_at=CLOSES,
        **kwargs,
    )
    return poll, moderator


# --- the API ------------------------------------------------------------------------------------
def test_poll_detail_and_list_show_the_communitys_local_time(new_york, shanghai):
    for community, expected in [
        (new_york, "2031-01-15T12:30:00-05:00"),
        (shanghai, "2031-01-16T01:30:00+08:00"),
    ]:
        poll, moderator = _poll(community)
        client = client_for(moderator.user)
        assert client.get(f"/api/v1/polls/{poll.pk}").json()["closes_at"] == expected
        cards = client.get(f"/api/v1/communities/{community.pk}/polls").json()["results"]
        assert cards[0]["closes_at"] == expected


def test_a_time_sent_without_offset_is_read_in_the_communitys_zone(new_york):
    moderator = MembershipFactory(community=new_york, tier="moderator")
    response = client_for(moderator.user).post(
        f"/api/v1/communities/{new_york.pk}/polls",
        {
            "title": "周末去哪",
            "kind": "single",
            "options": [{"label": "A"}, {"label": "B"}],
            "closes_at": "2031-01-15T12:30:00",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["closes_at"] == "2031-01-15T12:30:00-05:00"
    assert Poll.objects.get(pk=response.json()["id"]).closes_at == CLOSES


def test_time_slot_labels_are_made_in_the_communitys_zone(new_york):
    poll, moderator = _poll(
        new_york,
        kind="time",
        options=[
            {
                "starts_at": datetime(2031, 1, 10, 14, 0, tzinfo=UTC),
                "ends_at": datetime(2031, 1, 10, 15, 0, tzinfo=UTC),
            },
            {"starts_at": datetime(2031, 1, 11, 2, 0, tzinfo=UTC)},
        ],
    )
    labels = list(poll.options.order_by("position").values_list("label", flat=True))
    assert labels == ["2031-01-10 09:00–10:00", "2031-01-10 21:00"]
    option = client_for(moderator.user).get(f"/api/v1/polls/{poll.pk}").json()["options"][0]
    assert option["starts_at"] == "2031-01-10T09:00:00-05:00"


def test_survey_detail_and_my_surveys_show_each_communitys_local_time(new_york, shanghai):
    member = MembershipFactory(community=new_york)
    MembershipFactory(community=shanghai, user=member.user)
    ny_survey = make_survey(new_york, [{"type": "short_text", "title": "建议"}], closes_at=CLOSES)
    sh_survey = make_survey(shanghai, [{"type": "short_text", "title": "建议"}], closes_at=CLOSES)
    client = client_for(member.user)

    detail = client.get(f"/api/v1/surveys/{ny_survey.pk}").json()
    assert detail["closes_at"] == "2031-01-15T12:30:00-05:00"
    cards = {c["id"]: c for c in client.get("/api/v1/surveys").json()["results"]}
    assert cards[ny_survey.pk]["closes_at"] == "2031-01-15T12:30:00-05:00"
    assert cards[sh_survey.pk]["closes_at"] == "2031-01-16T01:30:00+08:00"
    listed = client.get(f"/api/v1/communities/{new_york.pk}/surveys").json()["results"]
    assert listed[0]["closes_at"] == "2031-01-15T12:30:00-05:00"


def test_submitted_response_times_are_local(new_york):
    member = MembershipFactory(community=new_york)
    survey = make_survey(new_york, [{"key": "t", "type": "short_text", "title": "建议"}])
    client = client_for(member.user)
    url = f"/api/v1/surveys/{survey.pk}/submit"
    created = client.post(url, {"answers": {survey.q["t"].id: "好"}}, format="json")
    assert created.status_code == 201
    assert created.json()["submitted_at"].endswith(("-05:00", "-04:00"))
    Response.objects.filter(survey=survey).update(submitted_at=SUBMITTED)
    mine = client.get(f"/api/v1/surveys/{survey.pk}/response").json()
    assert mine["submitted_at"] == "2030-07-04T12:00:00-04:00"


def test_community_and_member_times_are_local(new_york):
    Community.objects.filter(pk=new_york.pk).update(created_at=SUBMITTED)
    member = MembershipFactory(community=new_york, joined_at=SUBMITTED)
    client = client_for(member.user)
    detail = client.get(f"/api/v1/communities/{new_york.pk}").json()
    assert detail["created_at"] == "2030-07-04T12:00:00-04:00"
    assert detail["membership"]["joined_at"] == "2030-07-04T12:00:00-04:00"
    mine = client.get("/api/v1/communities").json()["results"]
    assert mine[0]["community"]["created_at"] == "2030-07-04T12:00:00-04:00"
    members = client.get(f"/api/v1/communities/{new_york.pk}/members").json()["results"]
    assert members[0]["joined_at"] == "2030-07-04T12:00:00-04:00"


# --- reminders and exports ------------------------------------------------------------------------
def test_reminder_text_shows_the_local_closing_time(new_york, shanghai):
    for community, expected in [(new_york, "2031-01-15 12:30"), (shanghai, "2031-01-16 01:30")]:
        poll, _moderator = _poll(community)
        MembershipFactory(community=community)
        assert poll_services.poll_remind(poll_id=poll.pk) == 2
        times = set(
            Notification.objects.filter(object_key=f"poll:{poll.pk}").values_list(
                "data__time2", flat=True
            )
        )
        assert times == {expected}


def test_export_timestamps_are_local(
    new_york, tmp_path, settings, django_capture_on_commit_callbacks
):
    settings.EXPORT_ROOT = tmp_path
    survey = make_survey(new_york, [{"key": "t", "type": "short_text", "title": "建议"}])
    survey_services.response_submit(
        membership=MembershipFactory(community=new_york),
        survey=survey,
        answers={survey.q["t"].id: "好"},
    )
    Response.objects.filter(survey=survey).update(submitted_at=SUBMITTED)
    moderator = MembershipFactory(community=new_york, tier="moderator")
    with django_capture_on_commit_callbacks(execute=True):
        export = survey_services.export_request(actor=moderator, survey_id=survey.pk, format="csv")
    export.refresh_from_db()
    with export.file.open("rb") as handle:
        rows = list(csv.reader(io.StringIO(handle.read().decode("utf-8-sig"))))
    assert rows[1][1] == "2030-07-04 12:00:00"  # Shanghai would say 2030-07-05 00:00:00


# --- editing the zone ---------------------------------------------------------------------------
def test_admin_changes_the_zone_over_the_api_and_times_follow(shanghai, settings):
    settings.WECHAT_CONTENT_CHECK = False
    Community.objects.filter(pk=shanghai.pk).update(created_at=SUBMITTED)
    admin = MembershipFactory(community=shanghai, tier="admin")
    client = client_for(admin.user)
    url = f"/api/v1/communities/{shanghai.pk}"
    assert client.get(url).json()["created_at"] == "2030-07-05T00:00:00+08:00"

    response = client.patch(url, {"time_zone": "America/New_York"}, format="json")
    assert response.status_code == 200
    assert response.json()["time_zone"] == "America/New_York"
    assert response.json()["created_at"] == "2030-07-04T12:00:00-04:00"
    shanghai.refresh_from_db()
    assert shanghai.time_zone == "America/New_York"


@pytest.mark.parametrize(
    "name", ["Mars/Olympus", "localtime", "../../etc/passwd", "+08:00", "asia/shanghai"]
)
def test_unknown_zone_is_a_clear_400_and_changes_nothing(shanghai, name):
    admin = MembershipFactory(community=shanghai, tier="admin")
    response = client_for(admin.user).patch(
        f"/api/v1/communities/{shanghai.pk}", {"time_zone": name}, format="json"
    )
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert (error["code"], error["attr"]) == ("invalid_time_zone", "time_zone")
    shanghai.refresh_from_db()
    assert shanghai.time_zone == "Asia/Shanghai"


def test_unknown_zone_message_is_translated(shanghai):
    admin = MembershipFactory(community=shanghai, tier="admin")
    url = f"/api/v1/communities/{shanghai.pk}"
    client = client_for(admin.user)
    zh = client.patch(url, {"time_zone": "Mars/Olympus"}, format="json")
    en = client.patch(url, {"time_zone": "Mars/Olympus"}, format="json", HTTP_ACCEPT_LANGUAGE="en")
    assert "时区" in zh.json()["errors"][0]["detail"]
    assert "time zone" in en.json()["errors"][0]["detail"]


def test_only_admins_change_the_zone(shanghai):
    moderator = MembershipFactory(community=shanghai, tier="moderator")
    response = client_for(moderator.user).patch(
        f"/api/v1/communities/{shanghai.pk}", {"time_zone": "America/New_York"}, format="json"
    )
    assert response.status_code == 403
    shanghai.refresh_from_db()
    assert shanghai.time_zone == "Asia/Shanghai"


def _admin_form(community, **changes) -> dict:
    data = {
        "name": community.name,
        "description": community.description,
        "rules_text": community.rules_text,
        "time_zone": community.time_zone,
        "join_policy": community.join_policy,
        "kind": community.kind,
        "purpose": community.purpose,
    }
    if community.members_can_create_polls:
        data["members_can_create_polls"] = "on"
    return {**data, **changes}


def test_admin_site_changes_the_zone_and_refuses_unknown_names(shanghai, settings):
    settings.WECHAT_CONTENT_CHECK = False
    staff = MembershipFactory(community=shanghai, tier="admin", user__is_staff=True).user
    client = Client()
    client.force_login(staff)
    url = f"/admin/community/community/{shanghai.pk}/change/"
    assert "America/New_York" in client.get(url).content.decode()

    refused = client.post(url, _admin_form(shanghai, time_zone="Mars/Olympus"))
    assert refused.status_code == 200  # the form again, with the error
    assert refused.context["adminform"].form.errors["time_zone"]
    shanghai.refresh_from_db()
    assert shanghai.time_zone == "Asia/Shanghai"

    saved = client.post(url, _admin_form(shanghai, time_zone="America/New_York"))
    assert saved.status_code == 302
    shanghai.refresh_from_db()
    assert shanghai.time_zone == "America/New_York"


def test_time_zone_helpers():
    assert time_zone_clean(" Europe/Berlin ") == "Europe/Berlin"
    # A stored name that no longer loads renders in the default zone instead of failing.
    assert zone_named("Mars/Olympus").key == "Asia/Shanghai"
    assert zone_named("America/New_York").key == "America/New_York"
