"""The periodic jobs of ``community/schedule.py`` walked through their deadlines with a frozen
clock: in eager mode (the development run) and through a real worker on Redis (production)
the outcome is the same. And the development scheduler (``manage.py run_periodic``) fills the
outbox with close notifications and reminders by itself."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.test import override_settings
from django.utils import timezone
from django.utils.module_loading import import_string

from community.models import Notification
from community.schedule import JOBS, beat_schedule
from events import services as event_services
from events.models import Registration, RegistrationStatus
from moderation.models import ContentHold
from moderation.services.screening import screening_hold
from polls.models import Poll
from roles.services import boards as board_services
from roles.services import tasks_edit
from surveys import services as survey_services
from surveys.models import Export, Survey
from surveys.models import Response as SurveyResponse
from tests.boards.conftest import give_role
from tests.polls.conftest import option_ids, vote
from tests.roles.factories import hold
from tests.surveys.factories import basic_questions, make_survey
from tests.waiting import stays, wait_for

SEND = "/cgi-bin/message/subscribe/send"
ROOT = Path(__file__).resolve().parents[2]


def test_beat_runs_exactly_the_registered_jobs(settings):
    assert beat_schedule() == settings.CELERY_BEAT_SCHEDULE
    assert set(settings.CELERY_BEAT_SCHEDULE) == {job.name for job in JOBS}
    for job in JOBS:
        assert import_string(job.task).name == job.task  # the name beat sends
        assert job.longest_delay >= job.every, job.name  # a run may come one interval late


def test_readme_states_each_job_with_its_schedule_and_longest_delay():
    readme = (ROOT / "README.md").read_text()

    def minutes(delta: timedelta) -> str:
        return f"{delta.total_seconds() / 60:g} min"

    for job in JOBS:
        row = (
            f"| `{job.name}` | `{job.task}` | {minutes(job.every)} | {minutes(job.longest_delay)} |"
        )
        assert row in readme, row


#: (job whose deadline is walked, minutes after T0 the clock is frozen at, what is due then).
#: At every step all jobs run, as beat would run them at that time.
WALK = [
    ("notifications-sweep", 1, "lost message not yet 2 minutes old: left to its own task"),
    ("insights-flush", 2, "buffered activity counts flushed (nothing this walk checks changes)"),
    ("insights-daily", 2, "nobody inactive for 60 days, no detail past retention: no message"),
    # Walked through their own deadlines in tests/community/test_rules_alive.py,
    # tests/community/test_newcomers.py, tests/announcements/, tests/insights/test_digest.py and
    # tests/assistant/test_answering.py:
    # here nothing of theirs is due.
    ("rules-remind", 1, "no rules version is a week old: nobody reminded"),
    ("insights-weekly-digest", 1, "no admin in this community: no digest, whatever the day"),
    ("newcomers-check-in", 1, "members joined minutes ago: no check-in yet"),
    ("announcements-publish", 1, "no announcement scheduled: nobody notified"),
    # tests/games/test_draws.py walks draws-sweep through closes_at and a claim deadline
    ("draws-sweep", 1, "no lucky draw in this community: nothing drawn, nobody notified"),
    ("assistant-sweep", 1, "no customer-service message stored: nothing to answer"),
    ("notifications-sweep", 3, "lost message 3 minutes old: re-dispatched and sent"),
    ("moderation-recheck", 6, "check switched off: the unchecked poll stays held, unscreened"),
    ("exports-sweep", 14, "export on its last attempt silent 14 minutes: inside its lease"),
    ("exports-sweep", 16, "silent past its 15-minute lease on its last attempt: failed"),
    ("events-remind", 29, "event starts in 2 h 1 min: its 2-hour reminder is not due"),
    ("roles-terms", 29, "role term ends in 7 days and 1 minute: not reminded yet"),
    ("events-remind", 31, "2-hour reminder due: the confirmed member reminded"),
    ("roles-terms", 31, "role term ends within a week: its holder reminded once"),
    ("boards-remind", 39, "task due in 24 h 1 min: not yet in its 24-hour window"),
    ("boards-remind", 41, "task due in 23 h 59 min: its assignee is reminded, once"),
    ("events-sweep", 58, "waitlist offer inside its 1-hour claim window"),
    ("survey-responses-mix", 59, "anonymous survey open, one response (< k) waits in its box"),
    ("survey-responses-mix", 61, "survey closed: the last batch, below k, is mixed"),
    ("events-sweep", 62, "offer unclaimed past its deadline (61.5 min): passed to the next"),
    ("polls-remind", 119, "reminder window (1 h before close) not started"),
    ("polls-remind", 121, "reminder window started: non-voters reminded"),
    ("polls-sweep", 179, "poll still open"),
    ("polls-sweep", 181, "poll past its deadline: final, voters and author notified"),
]


def _expected(step: int, winner: str) -> dict:
    v, i, m, x = "voter", "idle", "author", "extra"
    outbox = {(v, "test", "pending" if step < 3 else "sent"), (i, "task_assigned", "skipped")}
    # The event: the voter and the author signed up, the voter cancelled, idle got the offer.
    outbox |= {(v, "event_confirmed", "skipped"), (m, "event_confirmed", "skipped")}
    outbox |= {(i, "event_offer", "skipped")}
    if step >= 31:
        outbox |= {(m, "event_reminder", "skipped"), (i, "role_term_ending", "skipped")}
    if step >= 41:
        outbox |= {(i, "task_due_soon", "skipped")}
    if step >= 62:
        outbox |= {(x, "event_offer", "skipped")}
    if step >= 121:
        outbox |= {(i, "poll_reminder", "skipped"), (m, "poll_reminder", "skipped")}
        outbox |= {(x, "poll_reminder", "skipped")}
    if step >= 181:
        outbox |= {(v, "poll_closed", "skipped"), (m, "poll_closed", "skipped")}
    return {
        "held": True,
        "final": step >= 181,
        "winners": [winner] if step >= 181 else None,
        "outbox": outbox,
        "sent": 0 if step < 3 else 1,
        "export": "pending" if step < 16 else "failed",
        "mixed": 0 if step < 61 else 1,
        # extra's own offer (given at 62 for an hour) lapses with nobody left in line.
        "offered": "idle" if step < 62 else "extra" if step < 122 else None,
    }


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("mode", ["eager", pytest.param("worker", marks=pytest.mark.celery_worker)])
def test_each_periodic_job_through_its_deadline_same_outcome_eager_and_worker(
    mode, request, wechat_server, make_poll, make_member, moderator
):
    wechat_server.expect_request(SEND, method="POST").respond_with_json(
        {"errcode": 0, "errmsg": "ok"}
    )
    if mode == "worker":  # after wechat_server: the worker is pointed at the fake server
        request.getfixturevalue("celery_worker_process")
    assert {name for name, _m, _what in WALK} == {job.name for job in JOBS}

    t0 = timezone.now()
    poll = make_poll("single", closes_at=t0 + timedelta(hours=3), reminder_hours=1)
    winner = option_ids(poll)[0]
    voter, voter_client = make_member()
    idle, _ = make_member()
    vote(voter_client, poll, {"option_ids": [winner]})
    # A message whose send task was lost (queued at t0, never dispatched).
    Notification.objects.create(
        community=voter.community,
        recipient=voter.user,
        kind="test",
        object_key="lost:1",
        data={"thing1": "lost"},
        created_at=t0,
    )
    # An export whose last attempt was lost (queued at t0, never run).
    survey = make_survey(voter.community, basic_questions())
    export = Export.objects.create(
        community=voter.community,
        survey=survey,
        format="csv",
        attempts=settings.EXPORT_MAX_ATTEMPTS,
        heartbeat_at=t0,
        created_at=t0,
    )
    # An anonymous survey closing at t0 + 1 h with one response waiting in its box.
    anonymous = make_survey(voter.community, basic_questions(), anonymous=True)
    survey_services.response_submit(
        membership=voter,
        survey=anonymous,
        answers={
            anonymous.q["q1"].id: {"choice": anonymous.c["q1"]["No"].id},
            anonymous.q["q2"].id: 3,
            anonymous.q["q3"].id: "ok",
        },
    )
    Survey.objects.filter(pk=anonymous.pk).update(closes_at=t0 + timedelta(hours=1))
    # A task due at t0 + 24 h 40 min, assigned to the idle member (told at once) by the
    # moderator, who holds a role that manages boards.
    board_admin = moderator[0]
    give_role(board_admin, "manage_boards")
    board = board_services.board_create(actor=board_admin, title="board")
    tasks_edit.task_create(
        actor=board_admin,
        board=board,
        title="task",
        due_at=t0 + timedelta(hours=24, minutes=40),
        assignee_ids=[idle.user_id],
    )
    # A role term of the idle member ending 7 days and 30 minutes after t0.
    hold(idle, "manage_events", term_ends_at=t0 + timedelta(days=7, minutes=30))
    # An event starting at t0 + 2.5 h (reminder 2 h before) with a 1-hour waitlist offer.
    extra, _ = make_member()
    screening_off = override_settings(WECHAT_CONTENT_CHECK=False)
    screening_off.enable()
    request.addfinalizer(screening_off.disable)
    event = event_services.event_create(
        actor=moderator[0],
        title="周六爬山",
        starts_at=t0 + timedelta(minutes=150),
        capacity=2,
        waitlist_offers=True,
        offer_hours=1,
        reminder_hours=[2],
    )
    for who in (voter, moderator[0], idle, extra):
        event_services.registration_put(actor=who, event_id=event.pk)
    event_services.registration_cancel(actor=voter, event_id=event.pk)
    Registration.objects.filter(event=event, status=RegistrationStatus.OFFERED).update(
        offer_expires_at=t0 + timedelta(minutes=61.5)
    )
    names = {
        voter.user_id: "voter",
        idle.user_id: "idle",
        moderator[0].user_id: "author",
        extra.user_id: "extra",
    }

    # A poll held because WeChat's check could not be reached (tests/moderation walks the
    # re-check itself against the fake server).
    held_poll = make_poll("single", closes_at=t0 + timedelta(days=30))
    screening_hold(
        community_id=held_poll.community_id,
        target_kind="poll",
        target_id=held_poll.pk,
        author_id=held_poll.author_id,
        unchecked=True,
    )

    def outcome() -> dict:
        frozen = Poll.objects.get(pk=poll.pk)
        return {
            "held": ContentHold.objects.filter(target_id=held_poll.pk, why="unchecked").exists(),
            "final": frozen.finalized_at is not None,
            "winners": (frozen.final_results or {}).get("result", {}).get("winners"),
            "outbox": {
                (names[r], kind, status)
                for r, kind, status in Notification.objects.values_list(
                    "recipient_id", "kind", "status"
                )
            },
            "sent": sum(1 for req, _resp in wechat_server.log if req.path == SEND),
            "export": Export.objects.get(pk=export.pk).status,
            "mixed": SurveyResponse.objects.filter(survey_id=anonymous.pk).count(),
            "offered": names.get(
                Registration.objects.filter(event=event, status=RegistrationStatus.OFFERED)
                .values_list("user_id", flat=True)
                .first()
            ),
        }

    seen = []
    for _job, minutes, what in WALK:
        now = t0 + timedelta(minutes=minutes)
        for job in JOBS:
            job.delay(now=now)
        expected = _expected(minutes, winner)
        wait_for(lambda expected=expected: outcome() == expected, timeout=30)
        if mode == "worker":  # let a duplicate or a premature effect show
            assert stays(lambda expected=expected: outcome() == expected, duration=0.5)
        seen.append((minutes, what, outcome()))
        assert seen[-1][2] == expected, (what, seen)


# --- the development scheduler ---------------------------------------------------------------
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the scheduler process needs PostgreSQL"
)
def test_run_periodic_fills_the_outbox_like_production_and_stops_on_sigterm(
    make_poll, make_member, moderator
):
    """``manage.py run_periodic`` as ``scripts/run`` starts it (eager Celery, no worker): a
    poll that closed gets its close notifications, a poll in its reminder window its
    reminders, without anything else running."""
    closed = make_poll("single")
    voter, voter_client = make_member()
    vote(voter_client, closed, {"option_ids": option_ids(closed)[:1]})
    Poll.objects.filter(pk=closed.pk).update(
        opens_at=timezone.now() - timedelta(days=2), closes_at=timezone.now() - timedelta(minutes=1)
    )
    closing = make_poll("single", closes_at=timezone.now() + timedelta(hours=2), reminder_hours=24)
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}"
        f":{db['PORT'] or 5432}/{db['NAME']}",
        "TEST_CELERY_BROKER_URL": "",  # eager, as in the development run
    }
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "run_periodic"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:

        def outbox():
            return set(Notification.objects.values_list("recipient_id", "kind", "object_key"))

        expected = {
            (voter.user_id, "poll_closed", f"poll:{closed.pk}"),
            (moderator[0].user_id, "poll_closed", f"poll:{closed.pk}"),
            (voter.user_id, "poll_reminder", f"poll:{closing.pk}"),
            (moderator[0].user_id, "poll_reminder", f"poll:{closing.pk}"),
        }
        assert wait_for(lambda: outbox() == expected, timeout=60), outbox()
        assert Poll.objects.get(pk=closed.pk).final_results["voters"] == 1
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            output, _ = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            output, _ = proc.communicate()
        print(output)
    assert proc.returncode == 0, output
    assert "polls-sweep" in output


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the scheduler process needs PostgreSQL"
)
def test_run_periodic_exits_when_the_development_run_is_killed():
    """``scripts/run`` killed with SIGKILL cannot stop its scheduler: the scheduler notices it
    lost its parent and exits by itself instead of running on."""
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}"
        f":{db['PORT'] or 5432}/{db['NAME']}",
        "TEST_CELERY_BROKER_URL": "",
        "PYTHON": sys.executable,
    }
    parent = subprocess.Popen(
        [
            "bash",
            "-c",
            '"$PYTHON" manage.py run_periodic --exit-with $$ > /dev/null 2>&1 & echo $!; wait',
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    scheduler = int(parent.stdout.readline())

    def alive() -> bool:
        try:
            os.kill(scheduler, 0)
        except ProcessLookupError:
            return False
        with open(f"/proc/{scheduler}/stat") as stat:  # a zombie has exited
            return stat.read().split(") ")[-1][0] != "Z"

    try:
        assert wait_for(lambda: "run_periodic" in Path(f"/proc/{scheduler}/cmdline").read_text())
        assert stays(alive, duration=1)
        parent.kill()
        parent.wait(timeout=10)
        assert wait_for(lambda: not alive(), timeout=60)
    finally:
        if alive():
            os.kill(scheduler, signal.SIGKILL)
