"""Recording activity: each source counts once after its write, through the Redis buffer and
its flush, or straight into the database when Redis is down; never failing the action."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from community.models import Membership, Tier
from events import services as event_services
from events.services.checkin import checkin_by_hand
from insights.activity_store import counts_apply
from insights.models import HourActivity, MemberDay
from insights.recording import BUFFER_KEY, activity_flush, buffer_field
from moderation.services.cases import report_create
from polls import services as poll_services
from roles.services import boards as board_services
from roles.services import tasks_comments, tasks_edit, tasks_move
from surveys import services as survey_services
from tests.factories import CommunityFactory, MembershipFactory
from tests.insights.conftest import day_counts
from tests.surveys.factories import basic_questions, make_survey


def _poll(actor):
    return poll_services.poll_create(
        actor=actor,
        title="周末去哪",
        kind="single",
        options=[{"label": "A"}, {"label": "B"}],
        closes_at=timezone.now() + timedelta(days=1),
    )


def test_a_vote_goes_through_the_buffer_and_the_flush(
    make_member, redis_buffer, django_capture_on_commit_callbacks
):
    moderator, _ = make_member(tier=Tier.MODERATOR)
    member, client = make_member()
    poll = _poll(moderator)
    option = poll.options.order_by("position").first()
    before = Membership.objects.get(pk=member.pk).last_active_at
    with django_capture_on_commit_callbacks(execute=True):
        response = client.put(
            f"/api/v1/polls/{poll.pk}/ballot", {"option_ids": [option.pk]}, format="json"
        )
    assert response.status_code == 200, response.content
    assert MemberDay.objects.count() == 0  # the vote wrote nothing of ours to the database
    assert len(redis_buffer.hgetall(BUFFER_KEY)) == 1
    assert activity_flush() == 1
    assert day_counts(member) == {"votes": 1}
    assert sum(HourActivity.objects.values_list("actions", flat=True)) == 1
    assert not redis_buffer.exists(BUFFER_KEY)
    assert activity_flush() == 0  # nothing counted twice
    assert day_counts(member) == {"votes": 1}
    after = Membership.objects.get(pk=member.pk).last_active_at
    assert after >= before - timedelta(hours=1)


def test_redis_down_never_fails_the_vote_and_still_counts(
    make_member, django_capture_on_commit_callbacks
):
    moderator, _ = make_member(tier=Tier.MODERATOR)
    member, client = make_member()
    poll = _poll(moderator)
    option = poll.options.order_by("position").first()
    with (
        override_settings(INSIGHTS_REDIS_URL="redis://127.0.0.1:1/0"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = client.put(
            f"/api/v1/polls/{poll.pk}/ballot", {"option_ids": [option.pk]}, format="json"
        )
    assert response.status_code == 200, response.content
    assert day_counts(member) == {"votes": 1}


def test_a_refused_vote_counts_nothing(make_member, django_capture_on_commit_callbacks):
    moderator, _ = make_member(tier=Tier.MODERATOR)
    member, client = make_member()
    poll = _poll(moderator)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.put(
            f"/api/v1/polls/{poll.pk}/ballot", {"option_ids": ["nope"]}, format="json"
        )
    assert response.status_code == 400
    assert day_counts(member) == {}


def test_opening_the_community_counts_a_visit(member, django_capture_on_commit_callbacks):
    membership, client = member
    with django_capture_on_commit_callbacks(execute=True):
        assert client.get(f"/api/v1/communities/{membership.community_id}").status_code == 200
        assert client.get(f"/api/v1/communities/{membership.community_id}").status_code == 200
    assert day_counts(membership) == {"visits": 2}


def test_every_source_counts_its_kind(make_member, django_capture_on_commit_callbacks):
    admin, _ = make_member(tier=Tier.ADMIN)
    member, _ = make_member()
    other, _ = make_member()
    community = member.community
    with django_capture_on_commit_callbacks(execute=True):
        survey = make_survey(community, basic_questions())
        survey_services.response_submit(
            membership=member,
            survey=survey,
            answers={
                survey.q["q1"].id: {"choice": survey.c["q1"]["No"].id},
                survey.q["q2"].id: 4,
                survey.q["q3"].id: "ok",
            },
        )
        event = event_services.event_create(
            actor=admin,
            mode="quick",
            title="周六爬山",
            starts_at=timezone.now() + timedelta(hours=1),
        )
        registration = event_services.registration_put(actor=member, event_id=event.pk)
        checkin_by_hand(actor=admin, event=event, registration_id=registration.pk)
        checkin_by_hand(actor=admin, event=event, registration_id=registration.pk)
        board = board_services.board_create(actor=admin, title="筹备")
        columns = list(board.columns.order_by("position"))
        task = tasks_edit.task_create(actor=admin, board=board, title="订场地")
        tasks_comments.comment_create(actor=member, task=task, body="我来")
        tasks_move.task_move(actor=admin, task=task, column_id=columns[-1].pk)
        report_create(actor=member, target_kind="member", target_id=other.pk, reason="spam")
    assert columns[-1].is_done
    assert day_counts(member) == {
        "answers": 1,
        "signups": 1,
        "checkins": 1,
        "comments": 1,
        "reports": 1,
    }
    assert day_counts(admin) == {"tasks_done": 1}


@pytest.mark.django_db
def test_the_day_and_hour_are_the_community_s_own():
    community = CommunityFactory(time_zone="America/New_York")
    member = MembershipFactory(community=community)
    at = datetime(2026, 3, 2, 3, 30, tzinfo=UTC)  # 22:30 on 1 March in New York
    field = buffer_field(community_id=community.pk, user_id=member.user_id, kind="vote", at=at)
    counts_apply({field: 2})
    row = MemberDay.objects.get()
    assert (row.day, row.votes) == (date(2026, 3, 1), 2)
    assert HourActivity.objects.values_list("day", "hour", "actions").get() == (
        date(2026, 3, 1),
        22,
        2,
    )
