"""The insights dashboard at scale: a small community against a very large one, one run.

Run with the project's virtualenv (not collected by pytest)::

    .venv/bin/python tests/benchmarks/bench_insights.py

Creates its own database ``bench_insights_<pid>`` on the local PostgreSQL (``BENCH_PG``) and
seeds two communities: a small one (100 members, 1,000 days of member-days: every member
every day, 100,000 rows) and a large one (50,000 members, 10 million member-days: each
member active one day in five over 1,000 days), both with 1,000 days of hourly counters. The
member-days are generated in PostgreSQL (``INSERT ... SELECT`` over ``generate_series``; the
indexes are built after the load), then the database is vacuumed and analysed.

It then times the ``insights-daily`` job's two passes over the large community: the
dashboard summaries (``summary_job_s``) and the inactive-member rounds over 50,000 members
(``candidates_job_s``; one member in fifty is idle past the rule, so a thousand rounds open and
a thousand "还在吗?" are queued for the workers, which are not timed), and serves the API with gunicorn: the owner of each
community reads ``GET /api/v1/communities/{id}/insights`` alone, in alternating rounds
(median milliseconds per request, ``dashboard_ms_small`` and ``dashboard_ms_large``, the
median of the rounds' medians). ``large_over_small`` must stay <= 3. The database is dropped
at the end. The last line printed is one JSON object."""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.benchmarks.harness import (  # noqa: E402
    PG,
    bench_env,
    database_create,
    database_drop,
    django_setup,
    gunicorn_start,
    gunicorn_stop,
    log,
    median_latency,
)

DB_NAME = f"bench_insights_{os.getpid()}"
SMALL, LARGE = 100, int(os.environ.get("BENCH_LARGE_MEMBERS", "50000"))
DAYS = 1000
EVERY = 5  # a large community's member is active one day in EVERY: 50,000 x 1,000 / 5 = 10M
SAMPLES = int(os.environ.get("BENCH_SAMPLES", "30"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
LOADERS = int(os.environ.get("BENCH_LOADERS", "4"))

ENV = bench_env(DB_NAME, "community.settings", DB_POOL_MAX="4", INSIGHTS_REDIS_URL="")


def _members(community, n: int, prefix: str, now) -> None:
    """``n`` members joined over the 1,000 days; one in fifty idle for 90 days."""
    from datetime import timedelta

    from django.db import connection

    from community.models import Membership, User

    with connection.cursor() as cursor:  # no audit triggers nor row-by-row key checks
        cursor.execute("SET session_replication_role = replica")
    users = [
        User(username=f"{prefix}{i}", nickname=f"{prefix} {i}", password="!") for i in range(n)
    ]
    User.objects.bulk_create(users, batch_size=5000)
    Membership.objects.bulk_create(
        [
            Membership(
                community=community,
                user=user,
                joined_at=now - timedelta(days=(i * 7919) % DAYS + 1),
                last_active_at=now - timedelta(days=90 if i % 50 == 0 else i % EVERY),
            )
            for i, user in enumerate(users)
        ],
        batch_size=5000,
    )
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = DEFAULT")


def _member_days(community_id: str, today, every: int) -> None:
    """1,000 days of member-days of the community, generated in PostgreSQL: member number
    ``n`` (0-based, in id order) is active on day ``d`` when ``n % every == d % every``. The
    days are split in ``LOADERS`` ranges inserted over parallel connections."""
    import psycopg

    url = f"{PG}/{DB_NAME}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE bench_members AS SELECT row_number() OVER (ORDER BY user_id) - 1 AS n,"
            " user_id FROM community_membership WHERE community_id = %s AND tier <> 'owner'",
            [community_id],
        )
        conn.execute("CREATE INDEX ON bench_members (n)")
        conn.execute("ANALYZE bench_members")
        (members,) = conn.execute("SELECT count(*) FROM bench_members").fetchone()
        conn.execute(
            """
            INSERT INTO insights_houractivity (community_id, day, hour, actions)
            SELECT %s, %s::date - d, h, 1 + (d * 7 + h * 13) %% 50
            FROM generate_series(0, %s::int) AS d CROSS JOIN generate_series(0, 23) AS h
            """,
            [community_id, today, DAYS - 1],
        )
    per_day = members // every

    def load(first: int, last: int) -> None:
        with psycopg.connect(url, autocommit=True) as conn:
            # No foreign-key checks row by row (the ids come from the tables themselves).
            conn.execute("SET session_replication_role = replica")
            conn.execute(
                """
                INSERT INTO insights_memberday
                    (community_id, user_id, day, visits, votes, answers, signups, checkins,
                     tasks_done, comments, reports, messages)
                SELECT %s, m.user_id, %s::date - d, 1 + (k %% 3), (d + k) %% 2,
                       (k %% 7 = 0)::int, (k %% 11 = 0)::int, 0, (k %% 13 = 0)::int,
                       (k %% 5 = 0)::int, 0, k %% 4
                FROM generate_series(%s::int, %s::int) AS d
                CROSS JOIN generate_series(0, %s::int) AS k
                JOIN bench_members m ON m.n = k * %s + (d %% %s)
                """,
                [community_id, today, first, last, per_day - 1, every, every],
            )

    step = -(-DAYS // LOADERS)
    with ThreadPoolExecutor(LOADERS) as pool:
        for future in [
            pool.submit(load, start, min(start + step, DAYS) - 1) for start in range(0, DAYS, step)
        ]:
            future.result()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP TABLE bench_members")


def vacuum() -> None:
    import psycopg

    with psycopg.connect(f"{PG}/{DB_NAME}", autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")


def seed() -> dict:
    django_setup(ENV)
    from django.db import connection
    from django.utils import timezone

    from community.models import Community, Membership, Tier, User
    from community.services.tokens import token_issue
    from insights.selectors import local_today

    now = timezone.now()
    out = {}
    t0 = time.perf_counter()
    with connection.cursor() as cursor:
        # Load without the member-days' indexes, build them after (as a restore does).
        cursor.execute(
            "ALTER TABLE insights_memberday DROP CONSTRAINT memberday_one_per_member_and_day"
        )
        cursor.execute("DROP INDEX memberday_community_day")
        # A benchmark's table: no write-ahead log for the load (reads are unaffected).
        cursor.execute("ALTER TABLE insights_memberday SET UNLOGGED")
    for name, size, every in (("small", SMALL, 1), ("large", LARGE, EVERY)):
        community = Community.objects.create(name=f"bench {name}")
        owner = User.objects.create_user(f"owner-{name}", nickname=f"owner {name}")
        Membership.objects.create(community=community, user=owner, tier=Tier.OWNER)
        _members(community, size, name, now)
        log(f"{name}: members ({time.perf_counter() - t0:.0f}s)")
        _member_days(community.pk, local_today(community, now), every)
        out[name] = {"community": community.pk, "token": token_issue(user=owner).raw}
        log(f"{name}: {size} members seeded ({time.perf_counter() - t0:.0f}s)")
    with connection.cursor() as cursor:
        cursor.execute(
            "ALTER TABLE insights_memberday ADD CONSTRAINT memberday_one_per_member_and_day "
            "UNIQUE (community_id, user_id, day)"
        )
        cursor.execute(
            "CREATE INDEX memberday_community_day ON insights_memberday (community_id, day)"
        )
        cursor.execute("SELECT count(*) FROM insights_memberday")
        out["member_days"] = cursor.fetchone()[0]
    connection.close()
    vacuum()
    out["seed_s"] = round(time.perf_counter() - t0, 1)
    log(f"seeded {out['member_days']} member-days in {out['seed_s']}s")
    return out


def jobs(data: dict) -> dict:
    from django.db import connection
    from django.utils import timezone

    from community.models import Community
    from insights.models import InactiveRound
    from insights.services.inactive import inactive_rounds_run
    from insights.services.summaries import community_summary_refresh

    now = timezone.now()
    times = {}
    small = Community.objects.get(pk=data["small"]["community"])
    community_summary_refresh(community=small, now=now)
    large = Community.objects.get(pk=data["large"]["community"])
    t0 = time.perf_counter()
    community_summary_refresh(community=large, now=now)
    times["summary_job_s"] = round(time.perf_counter() - t0, 2)
    # The job queues the messages; a worker sends them (not timed here): a broker in memory.
    from community.celery import app

    app.conf.task_always_eager = False
    app.conf.broker_url = "memory://"
    t0 = time.perf_counter()
    result = inactive_rounds_run(now=now)
    times["candidates_job_s"] = round(time.perf_counter() - t0, 2)
    times["candidates"] = result["opened"]
    times["large_rounds"] = InactiveRound.objects.filter(community_id=large.pk).count()
    connection.close()
    vacuum()
    log(f"jobs: {times}")
    return times


def main() -> int:
    server = None
    figures: dict = {}
    try:
        database_create(DB_NAME, ENV)
        data = seed()
        figures.update(jobs(data))
        server, base = gunicorn_start(ENV, workers=2)
        medians: dict[str, list[float]] = {"small": [], "large": []}
        for _ in range(ROUNDS):
            for name in ("small", "large"):
                path = f"/api/v1/communities/{data[name]['community']}/insights"
                medians[name].append(median_latency(base, data[name]["token"], path, SAMPLES))
        small = statistics.median(medians["small"])
        large = statistics.median(medians["large"])
        figures.update(
            {
                "member_days": data["member_days"],
                "members_large": LARGE,
                "seed_s": data["seed_s"],
                "dashboard_ms_small": small,
                "dashboard_ms_large": large,
                "large_over_small": round(large / small, 2),
                "rounds_small_ms": medians["small"],
                "rounds_large_ms": medians["large"],
                "load_avg": os.getloadavg()[0],
            }
        )
    finally:
        gunicorn_stop(server)
        if not os.environ.get("BENCH_KEEP"):
            database_drop(DB_NAME)
    print(json.dumps(figures))
    return 0 if figures.get("large_over_small", 99) <= 3 else 1


if __name__ == "__main__":
    raise SystemExit(main())
