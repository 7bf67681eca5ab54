"""Micro-benchmark of the membership check of a member-facing request, old and new, one run.

Run with the project's virtualenv (not collected by pytest)::

    .venv/bin/python tests/benchmarks/bench_member_check.py

Creates its own database ``bench_member_check_<pid>`` on the local PostgreSQL (``BENCH_PG``),
seeds a community, a member, a survey and a poll, then calls each check in alternating rounds
in this one process: the ORM versions the code had before issue 18 (copied below, verbatim
but for their names) and the current ``community.authz`` ones. It reports calls per second of
this process's CPU (``time.process_time``: the Python side, where the old check spent its
time) and of wall time (which includes PostgreSQL answering), and ``speedup`` = new CPU rate /
old CPU rate. ``*_pg_us`` is PostgreSQL's CPU per check (the connection's backend, from
``/proc/<pid>/schedstat``) for the old check, the new one (its statement prepared on the
server, ``community.db.prepared``) and the new one ``unprepared`` (bound on the client, as
behind PgBouncer); ``prepared_pg_speedup`` = unprepared / prepared. ``ensure_per_s`` is the rule check alone (``authz.ensure``, no query): what a
service repeating the view's check would pay. The last line printed is one JSON object.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
DB_NAME = f"bench_member_check_{os.getpid()}"
CALLS = int(os.environ.get("BENCH_CALLS", "500"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))

ENV = {
    **os.environ,
    "DJANGO_SETTINGS_MODULE": "community.settings",
    "DATABASE_URL": f"{PG}/{DB_NAME}",
    "DEBUG": "0",
    "DB_POOL": "0",
    "SECRET_KEY": "bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
    "BALLOT_KEY": "bench-only-ballot-key-0123456789-abcdefghijklmnopqrstuvwxyz",
    "ALLOWED_HOSTS": "127.0.0.1",
    "LOG_LEVEL": "WARNING",
    "CELERY_BROKER_URL": "",
}
os.environ.update(ENV)
sys.path.insert(0, str(ROOT))


def admin_sql(sql: str) -> None:
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(sql)


# --- the checks as they were before issue 18 (ORM) -------------------------------------------
def old_visible_membership(user, community_id):
    from django.utils.translation import gettext as _

    from community.authz import VISIBLE_STATUSES
    from community.errors import NotFound
    from community.models import Membership

    if not user.is_authenticated:
        raise NotFound(_("Community not found."))
    membership = (
        Membership.objects.select_related("community")
        .filter(community_id=community_id, user=user, status__in=VISIBLE_STATUSES)
        .first()
    )
    if membership is None:
        raise NotFound(_("Community not found."))
    return membership


def old_survey_for_member(*, user, survey_id, action):
    from django.db.models import FilteredRelation, Q
    from django.utils.translation import gettext as _

    from community.authz import VISIBLE_STATUSES, ensure
    from community.errors import NotFound
    from surveys.models import Survey, SurveyStatus

    survey = (
        Survey.objects.filter(pk=survey_id)
        .exclude(status=SurveyStatus.DRAFT)
        .annotate(
            viewer=FilteredRelation(
                "community__memberships", condition=Q(community__memberships__user=user)
            )
        )
        .select_related("community", "viewer")
        .first()
    )
    membership = getattr(survey, "viewer", None)
    if membership is None or membership.status not in VISIBLE_STATUSES:
        raise NotFound(_("Survey not found."))
    membership.community = survey.community
    membership.user = user
    ensure(membership, action)
    return survey, membership


def old_poll_for_member(*, user, poll_id, action):
    from django.db.models import F
    from django.utils.translation import gettext as _

    from community.authz import VISIBLE_STATUSES, ensure
    from community.errors import NotFound
    from community.models import Membership
    from polls.models import Poll

    row = (
        Poll.objects.select_related("community")
        .filter(
            pk=poll_id,
            community__memberships__user_id=user.pk,
            community__memberships__status__in=VISIBLE_STATUSES,
        )
        .annotate(
            m_id=F("community__memberships__id"),
            m_tier=F("community__memberships__tier"),
            m_status=F("community__memberships__status"),
            m_rules=F("community__memberships__rules_accepted_version"),
        )
        .order_by()[:1]
    )
    poll = next(iter(row), None)
    if poll is None or not user.is_authenticated:
        raise NotFound(_("Poll not found."))
    membership = Membership(
        id=poll.m_id,
        community=poll.community,
        user=user,
        tier=poll.m_tier,
        status=poll.m_status,
        rules_accepted_version=poll.m_rules,
    )
    membership._state.adding = False
    ensure(membership, action)
    return poll, membership


def backend_cpu_ns() -> int:
    """CPU time of this connection's PostgreSQL backend so far (``/proc/<pid>/schedstat``)."""
    from django.db import connection

    from tests.benchmarks.harness import run_ns

    connection.ensure_connection()
    return run_ns(connection.connection.info.backend_pid)


def rate(fn, calls: int) -> tuple[float, float, float]:
    """Calls per CPU second and per wall second of this process, and PostgreSQL CPU per call
    (µs)."""
    fn()  # warm (statement caches, translations, the prepared statement)
    pg = backend_cpu_ns()
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(calls):
        fn()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    return calls / cpu, calls / wall, (backend_cpu_ns() - pg) / calls / 1000


def unprepared(fn):
    """``fn`` with its statement not prepared, as behind PgBouncer (``DB_POOLER=pgbouncer``
    sets psycopg's threshold to None, and ``community.db.prepared`` then binds on the client)."""
    from django.db import connection

    def run():
        raw = connection.connection
        saved, raw.prepare_threshold = raw.prepare_threshold, None
        try:
            return fn()
        finally:
            raw.prepare_threshold = saved

    return run


def main() -> None:
    admin_sql(f'DROP DATABASE IF EXISTS "{DB_NAME}"')
    admin_sql(f'CREATE DATABASE "{DB_NAME}"')
    try:
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=ENV, check=True
        )
        import django

        django.setup()
        from django.db import connection
        from django.utils import timezone

        from community import authz
        from community.models import Community, Membership, User
        from polls.models import Poll
        from polls.selectors import poll_for_member
        from surveys.models import Survey
        from surveys.selectors import survey_for_member

        community = Community.objects.create(name="基准社区")
        user = User.objects.create(username="bench", nickname="成员", openid="o-bench")
        Membership.objects.create(community=community, user=user)
        survey = Survey.objects.create(community=community, title="问卷", status="published")
        poll = Poll.objects.create(
            community=community,
            title="投票",
            kind="single",
            closes_at=timezone.now() + timezone.timedelta(days=1),
        )
        user = User.objects.get(pk=user.pk)  # as the authentication would hand it over
        act = authz.Action.PARTICIPATE
        pairs = {
            "membership": (
                lambda: old_visible_membership(user, community.pk),
                lambda: authz.visible_membership(user, community.pk),
            ),
            "survey": (
                lambda: old_survey_for_member(user=user, survey_id=survey.pk, action=act),
                lambda: survey_for_member(user=user, survey_id=survey.pk, action=act),
            ),
            "poll": (
                lambda: old_poll_for_member(user=user, poll_id=poll.pk, action=act),
                lambda: poll_for_member(user=user, poll_id=poll.pk, action=act),
            ),
        }
        labels = ("old", "new", "unprepared")
        figures: dict[str, dict[str, list[float]]] = {
            name: {f"{label}_{kind}": [] for label in labels for kind in ("cpu", "wall", "pg")}
            for name in pairs
        }
        for _round in range(ROUNDS):
            for name, (old, new) in pairs.items():
                for label, fn in zip(labels, (old, new, unprepared(new)), strict=True):
                    cpu, wall, pg = rate(fn, CALLS)
                    figures[name][f"{label}_cpu"].append(cpu)
                    figures[name][f"{label}_wall"].append(wall)
                    figures[name][f"{label}_pg"].append(pg)
        membership = authz.visible_membership(user, community.pk)
        ensure_cpu, _wall, _pg = rate(lambda: authz.ensure(membership, act), CALLS * 10)
        result: dict[str, object] = {}
        for name, f in figures.items():
            best = {key: max(values) for key, values in f.items() if not key.endswith("_pg")}
            pg = {key: min(values) for key, values in f.items() if key.endswith("_pg")}
            result[f"{name}_old_per_cpu_s"] = round(best["old_cpu"])
            result[f"{name}_new_per_cpu_s"] = round(best["new_cpu"])
            result[f"{name}_old_us_cpu"] = round(1e6 / best["old_cpu"], 1)
            result[f"{name}_new_us_cpu"] = round(1e6 / best["new_cpu"], 1)
            result[f"{name}_old_per_wall_s"] = round(best["old_wall"])
            result[f"{name}_new_per_wall_s"] = round(best["new_wall"])
            result[f"{name}_speedup"] = round(best["new_cpu"] / best["old_cpu"], 2)
            for label in labels:
                result[f"{name}_{label}_pg_us"] = round(pg[f"{label}_pg"], 1)
            result[f"{name}_unprepared_us_cpu"] = round(1e6 / best["unprepared_cpu"], 1)
            result[f"{name}_prepared_pg_speedup"] = round(pg["unprepared_pg"] / pg["new_pg"], 2)
        result["ensure_per_s"] = round(ensure_cpu)
        result["calls"] = CALLS
        result["rounds"] = ROUNDS
        connection.close()
    finally:
        admin_sql(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
    print(json.dumps(result))


if __name__ == "__main__":
    main()
