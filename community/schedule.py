"""Every piece of work that follows the clock, in one list: the periodic jobs.

Clock-driven work is done one way only: a periodic sweep finds what is due and calls
idempotent services. Nothing is queued with an ETA far in the future (on Redis, Celery
redelivers unacknowledged ETA tasks after the broker's visibility timeout, so a task due in
three days would run again and again). State that follows from the clock is also computed, or
frozen, when it is first read (a poll past ``closes_at`` is closed and its results are frozen by
the first request that sees it), so a late or missing worker delays only side effects such as
notifications, never what members see.

The same list feeds production (``CELERY_BEAT_SCHEDULE`` for ``celery beat``) and the
development run (``manage.py run_periodic``, started by ``scripts/run``), so both do the same
work on the same schedule. Every job's task takes an optional ``now`` (ISO 8601): beat never
passes it; tests pass a frozen clock to walk a job through its deadline.

This module imports no Django models: ``community.settings`` reads it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

#: The longest a task may be delayed on purpose (ETA or countdown) anywhere in the product.
MAX_TASK_DELAY = timedelta(minutes=5)


@dataclass(frozen=True)
class Job:
    """A periodic job: ``task`` runs every ``every``; ``longest_delay`` is how late its work
    may be done after it fell due (the interval plus any grace the job waits on purpose), as
    the README states it."""

    name: str
    task: str
    every: timedelta
    longest_delay: timedelta
    does: str

    def delay(self, now: datetime | None = None) -> Any:
        """Queue this job's task as beat does (run it in-process when Celery is eager); a
        frozen ``now`` is passed on to it."""
        from django.utils.module_loading import import_string

        task = import_string(self.task)
        return task.delay(now=now.isoformat()) if now is not None else task.delay()


JOBS: tuple[Job, ...] = (
    Job(
        name="polls-sweep",
        task="polls.tasks.polls_sweep",
        every=timedelta(minutes=1),
        longest_delay=timedelta(minutes=1),
        does=(
            "Mixes secret ballot boxes holding a complete batch (an after-vote task lost, "
            "or never queued: without a broker votes queue none), "
            "finalizes polls past their closing time (frozen results, close notifications into "
            "the outbox) that no request has finalized yet, and records the electorate of polls "
            "that opened. Results are final at the deadline anyway: the first read freezes them."
        ),
    ),
    Job(
        name="polls-remind",
        task="polls.tasks.polls_remind",
        every=timedelta(minutes=5),
        longest_delay=timedelta(minutes=5),
        does=(
            "Queues a reminder to each active member who has not voted in an open poll whose "
            "reminder window (reminder_hours before close) has started; once per member."
        ),
    ),
    Job(
        name="events-sweep",
        task="events.tasks.events_sweep",
        every=timedelta(minutes=1),
        longest_delay=timedelta(minutes=1),
        does=(
            "Passes waitlist offers not claimed by their deadline on to the next in line "
            "(cancels the offer, frees its seats, promotes or offers again). A member who "
            "reads the event first triggers the same at once, so the sweep only bounds the "
            "delay for events nobody looks at."
        ),
    ),
    Job(
        name="events-remind",
        task="events.tasks.events_remind",
        every=timedelta(minutes=5),
        longest_delay=timedelta(minutes=5),
        does=(
            "Queues the reminder round that is due (each event's reminder_hours, default 24 h "
            "and 2 h before the start) to every confirmed member, once per member, round and "
            "start time."
        ),
    ),
    Job(
        name="roles-terms",
        task="roles.tasks.roles_terms",
        every=timedelta(minutes=10),
        longest_delay=timedelta(minutes=10),
        does=(
            "Records the end of role terms past their date (they grant nothing from that "
            "moment anyway) and reminds each holder once, a week before their term ends."
        ),
    ),
    Job(
        name="notifications-sweep",
        task="community.tasks.notifications_sweep",
        every=timedelta(minutes=5),
        longest_delay=timedelta(minutes=7),
        does=(
            "Re-dispatches outbox messages still pending two minutes after they were queued "
            "(their task was lost, e.g. the broker was down at commit), and records 'unknown' "
            "the messages a dead worker left 'sending' past the 5-minute lease (never resent)."
        ),
    ),
    Job(
        name="survey-responses-mix",
        task="surveys.tasks.responses_mix_sweep",
        every=timedelta(minutes=5),
        longest_delay=timedelta(minutes=5),
        does=(
            "Mixes the box of anonymous surveys: a full batch (k responses) whose after-commit "
            "task was lost, and whatever waits once the survey is closed, so reports show it."
        ),
    ),
    Job(
        name="boards-remind",
        task="roles.tasks_boards.boards_remind",
        every=timedelta(minutes=15),
        longest_delay=timedelta(minutes=15),
        does=(
            'Queues "due within 24 hours" to the assignees of open tasks entering that window '
            "(once per assignee and due date) and one overdue digest a day per member and "
            "community (assignees and holders of the owning role), never one per task."
        ),
    ),
    Job(
        name="exports-sweep",
        task="surveys.tasks.exports_sweep",
        every=timedelta(minutes=5),
        longest_delay=timedelta(minutes=20),
        does=(
            "Re-queues survey exports silent past their lease (15 min: their task was lost or "
            "their worker died), fails them after the last attempt, and deletes export files "
            "past the retention period (7 days)."
        ),
    ),
    Job(
        name="moderation-recheck",
        task="moderation.tasks.moderation_recheck",
        every=timedelta(minutes=5),
        longest_delay=timedelta(minutes=10),
        does=(
            "Screens again, 50 at a time, the texts held because WeChat's content check could "
            "not be reached: pass releases them (shown, case closed), review leaves them for a "
            "moderator, risky keeps them hidden and marks the case; a hold tried within 4 "
            "minutes waits for the next run, and a run stops while WeChat is still down."
        ),
    ),
    Job(
        name="insights-flush",
        task="insights.tasks.insights_flush",
        every=timedelta(minutes=1),
        longest_delay=timedelta(minutes=2),
        does=(
            "Adds the activity counts buffered in Redis (one HINCRBY per action) into the "
            "member-day and hourly tables and moves members' last activity forward."
        ),
    ),
    Job(
        name="insights-daily",
        task="insights.tasks.insights_daily",
        every=timedelta(hours=1),
        longest_delay=timedelta(hours=1),
        does=(
            "Rolls member-days past the retention period up into weeks and weeks into months "
            "(totals unchanged); clears the inactive-member rounds of members active since and "
            'opens one for each new candidate, queueing its "还在吗?" once (outbox key per round).'
        ),
    ),
    Job(
        name="insights-weekly-digest",
        task="insights.tasks.insights_weekly_digest",
        every=timedelta(hours=1),
        longest_delay=timedelta(hours=1),
        does=(
            "On Mondays from 08:00 in each community's time zone, queues the weekly digest "
            "(active members and trend, last week's participation, upcoming events, overdue "
            "tasks, inactive candidates) to each admin, once per admin and ISO week."
        ),
    ),
    Job(
        name="rules-remind",
        task="community.tasks.rules_remind",
        every=timedelta(hours=1),
        longest_delay=timedelta(hours=1),
        does=(
            "A week after a new group rules version was published, reminds each member who "
            "was in the community then and has not accepted it, once per member and version."
        ),
    ),
    Job(
        name="newcomers-check-in",
        task="community.tasks.newcomers_check_in",
        every=timedelta(hours=1),
        longest_delay=timedelta(hours=1),
        does=(
            "Sends the first-week check-in message to members three days after they joined "
            "(while their first week lasts), once per membership."
        ),
    ),
    Job(
        name="announcements-publish",
        task="announcements.tasks.announcements_publish",
        every=timedelta(minutes=5),
        longest_delay=timedelta(minutes=5),
        does=(
            "Notifies the followers of an announcement's category once it is published (its "
            "scheduled time has come; members see it from that moment anyway, the list is "
            "computed from the clock), once per member and announcement."
        ),
    ),
    Job(
        name="draws-sweep",
        task="games.tasks.draws_sweep",
        every=timedelta(minutes=1),
        longest_delay=timedelta(minutes=1),
        does=(
            "Draws the lucky draws past their closing time that no organizer has drawn (entry "
            "list frozen, round 1 drawn, winners told once through the outbox) and redraws, "
            "in a new round with its own commitment, the prizes not claimed in their window."
        ),
    ),
    Job(
        name="assistant-sweep",
        task="assistant.tasks.assistant_sweep",
        every=timedelta(minutes=5),
        longest_delay=timedelta(minutes=10),
        does=(
            "Answers the customer-service messages stored while the workers or WeChat were "
            "down (still unanswered two minutes after they arrived) and sends the replies "
            "left pending; a reply whose worker died while sending is marked failed (never "
            "sent twice)."
        ),
    ),
)


def beat_schedule() -> dict[str, dict[str, Any]]:
    """``CELERY_BEAT_SCHEDULE`` built from :data:`JOBS`. A run that waited longer than one
    interval in the queue expires: the next run does the same work."""
    return {
        job.name: {
            "task": job.task,
            "schedule": job.every.total_seconds(),
            "options": {"expires": job.every.total_seconds()},
        }
        for job in JOBS
    }


def job_now(value: str | None) -> datetime | None:
    """The ``now`` a periodic task was given (ISO 8601), or None for the real clock."""
    if value is None:
        return None
    return datetime.fromisoformat(value)
