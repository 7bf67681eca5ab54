"""Benchmark of event sign-ups under gunicorn on PostgreSQL (not run by pytest).

    .venv/bin/python tests/benchmarks/bench_signups.py

Creates its own database ``bench_signups_<pid>`` on the local PostgreSQL, migrates and seeds
it, starts gunicorn on 127.0.0.1 (a free port) with ``tests.benchmarks.bench_settings`` (the
product plus the *floor* URL), drives concurrent authenticated members, then stops gunicorn
and drops the database. Phases:

* **throughput**: members sign up for events whose capacity is far above demand, so every
  sign-up succeeds (each request a new registration: member i's n-th request is for event
  (i + n) mod N). Alternating slices with the authenticated baseline (``GET /api/v1/me``) and
  the floor (``PUT /bench/floor/...``: the same auth, then the registration insert and the
  guarded seat update in hand-written SQL, nothing else): ``signup_rps``, ``baseline_rps``,
  ``ratio`` (target >= 0.30), ``floor_rps``, ``signup_over_floor``.
* **rush**: 500 members at once for 50 seats, each with 0-2 guests and taking the seats that
  fit: ``oversold`` (must be 0), ``confirmed_seats`` (50), ``waitlist_order_ok`` (whenever a
  member was refused before another's request started, the first is ahead in line, and the
  places have no gaps), ``rush_p99_ms``.
* **cancellations under load**: 20 seated members cancel while 40 latecomers sign up, all at
  once: ``promoted_prefix_ok`` (those promoted are exactly the first of the line, nobody
  skipped), ``seats_after_cancel`` (50 again, equal to the seats registrations hold),
  ``latecomers_behind`` (every latecomer is behind the old line).

The last line printed is one JSON object with the figures. Environment knobs: BENCH_PG
(default postgres://postgres@127.0.0.1:5432), BENCH_CLIENTS (64), BENCH_SECONDS (12 per phase,
in 4 alternating slices), BENCH_WORKERS (2 * cores + 1), BENCH_THREADS (2), BENCH_BROKER
(redis://127.0.0.1:6379/4: outbox sends are published there as in production, to a queue of
this run that nobody consumes and that is deleted at the end).
"""

from __future__ import annotations

import json
import os
import random
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.benchmarks.harness import (  # noqa: E402  (the benchmarks' shared plumbing)
    PG,
    WORKERS,
    CpuMeter,
    bench_env,
    database_create,
    database_drop,
    django_setup,
    drive,
    gunicorn_start,
    gunicorn_stop,
    log,
    p,
    rounds,
    task_queue_drop,
    task_queue_env,
)

DB_NAME = f"bench_signups_{os.getpid()}"
CLIENTS = int(os.environ.get("BENCH_CLIENTS", "64"))
SECONDS = float(os.environ.get("BENCH_SECONDS", "12"))
ROUNDS = 4
THREADS = int(os.environ.get("BENCH_THREADS", "2"))
RUSH_MEMBERS = 500
RUSH_SEATS = 50
EVENTS = 400
CANCELLERS = 20
LATECOMERS = 40

ENV = bench_env(
    DB_NAME,
    "tests.benchmarks.bench_settings",
    THROTTLE_WRITES="10000000/min",
    # Outbox sends are queued as in production (the web tier publishes to Redis) to a queue of
    # this run that no worker consumes and that is deleted at the end.
    **task_queue_env("signups"),
    DB_POOL_MAX="4",
    WECHAT_CONTENT_CHECK="0",
)


def seed() -> dict:
    """Members with tokens; events for the throughput phase (product and floor), the rush
    event."""
    django_setup(ENV)
    from datetime import timedelta

    from django.db import connection
    from django.utils import timezone

    from community.models import Community, Membership, Tier, User
    from community.services.tokens import token_issue
    from events import services

    community = Community.objects.create(name="bench")
    owner = User.objects.create_user("owner")
    owner_m = Membership.objects.create(community=community, user=owner, tier=Tier.OWNER)
    owner_m.community = community
    users = User.objects.bulk_create(
        [User(username=f"m{i}", nickname=f"成员{i}") for i in range(RUSH_MEMBERS + LATECOMERS)]
    )
    Membership.objects.bulk_create([Membership(community=community, user=u) for u in users])
    tokens = [token_issue(user=u).raw for u in users]
    starts = timezone.now() + timedelta(days=7)

    def event(title: str, capacity: int, max_guests: int = 0):
        return services.event_create(
            actor=owner_m,
            title=title,
            starts_at=starts,
            capacity=capacity,
            max_guests=max_guests,
        ).pk

    signup_events = [event(f"活动{i}", 100_000) for i in range(EVENTS)]
    floor_events = [event(f"地板{i}", 100_000) for i in range(EVENTS)]
    rush = event("抢位", RUSH_SEATS, max_guests=2)
    connection.close()
    return {
        "community": community.pk,
        "tokens": tokens,
        "user_ids": [u.pk for u in users],
        "signup_events": signup_events,
        "floor_events": floor_events,
        "rush": rush,
    }


def at_once(base: str, tokens: list[str], request) -> list[tuple[object, float, float]]:
    """One request per token, all released together (a thread and connection each);
    returns (response, started, finished) per token, monotonic clock."""
    import httpx

    gate = threading.Barrier(len(tokens) + 1)
    out: list = [None] * len(tokens)

    def run(i: int) -> None:
        with httpx.Client(
            base_url=base, headers={"Authorization": f"Bearer {tokens[i]}"}, timeout=120
        ) as client:
            client.get("/api/v1/me")  # open the connection first
            gate.wait()
            started = time.monotonic()
            response = request(client, i)
            out[i] = (response, started, time.monotonic())

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(len(tokens))]
    for thread in threads:
        thread.start()
    gate.wait()
    for thread in threads:
        thread.join()
    return out


def db_rows(sql: str, params: list) -> list[tuple]:
    import psycopg

    with psycopg.connect(f"{PG}/{DB_NAME}") as conn:
        return conn.execute(sql, params).fetchall()


def line_of(event_id: str) -> list[str]:
    return [
        r[0]
        for r in db_rows(
            "SELECT user_id FROM events_registration WHERE event_id = %s AND "
            "status = 'waitlisted' ORDER BY waitlist_seq",
            [event_id],
        )
    ]


def seats_of(event_id: str) -> tuple[int, int, int]:
    """(seats counter, capacity, seats the registrations hold)."""
    taken, capacity = db_rows(
        "SELECT seats_taken, capacity FROM events_event WHERE id = %s", [event_id]
    )[0]
    held = db_rows(
        "SELECT coalesce(sum(seats), 0) FROM events_registration WHERE event_id = %s", [event_id]
    )[0][0]
    return taken, capacity, int(held)


def main() -> int:
    server = None
    try:
        database_create(DB_NAME, ENV)
        data = seed()
        server, base = gunicorn_start(ENV, threads=THREADS)
        tokens = data["tokens"][:CLIENTS]
        log(f"gunicorn: {WORKERS} workers x {THREADS} threads; {CLIENTS} clients")

        # --- throughput: every sign-up succeeds ------------------------------------------
        signup_events, floor_events = data["signup_events"], data["floor_events"]
        community = data["community"]
        sent = {"signup": [0] * CLIENTS, "floor": [0] * CLIENTS}

        def signup(client, i, n):
            k = sent["signup"][i]
            sent["signup"][i] += 1
            event_id = signup_events[(i + k) % EVENTS]
            return client.put(f"/api/v1/events/{event_id}/registration", json={"guests": 0})

        def floor(client, i, n):
            k = sent["floor"][i]
            sent["floor"][i] += 1
            event_id = floor_events[(i + k) % EVENTS]
            return client.put(f"/bench/floor/{community}/{event_id}")

        def me(client, i, n):
            return client.get("/api/v1/me")

        meter = CpuMeter(server.pid, DB_NAME)

        def slice_of(request):
            # Warm with GET /me: a warm-up sign-up would take one of the member's events.
            return lambda: drive(
                base,
                tokens,
                request,
                SECONDS / ROUNDS,
                meter,
                warm=lambda client, i: client.get("/api/v1/me"),
                timeout=60,
            )

        totals = rounds(
            {"baseline": slice_of(me), "signup": slice_of(signup), "floor": slice_of(floor)},
            ROUNDS,
        )
        meter.close()
        for name, t in totals.items():
            log(t.line(name))
        baseline_rps, base_lat = int(totals["baseline"].rps), totals["baseline"].latencies
        signup_rps, sign_lat = int(totals["signup"].rps), totals["signup"].latencies
        sign_err = totals["signup"].errors
        floor_rps, floor_lat = int(totals["floor"].rps), totals["floor"].latencies
        floor_err = totals["floor"].errors
        log(f"baseline GET /me: {baseline_rps} req/s, p99 {p(base_lat, 0.99):.1f} ms")
        log(
            f"sign-up PUT: {signup_rps} req/s, p50 {p(sign_lat, 0.5):.1f} ms, "
            f"p99 {p(sign_lat, 0.99):.1f} ms, errors {sign_err}"
        )
        log(f"floor PUT: {floor_rps} req/s, p99 {p(floor_lat, 0.99):.1f} ms, errors {floor_err}")
        all_confirmed = db_rows(
            "SELECT count(*) FROM events_registration r JOIN events_event e ON e.id = r.event_id "
            "WHERE e.title LIKE '活动%%' AND r.status <> 'confirmed'",
            [],
        )[0][0]

        # --- the rush: 500 members at once for 50 seats -----------------------------------
        rush = data["rush"]
        rush_tokens = data["tokens"][:RUSH_MEMBERS]
        rng = random.Random(5)
        bodies = [
            {"guests": rng.choice([0, 0, 0, 1, 2]), "accept_partial": True} for _ in rush_tokens
        ]
        runs = at_once(
            base,
            rush_tokens,
            lambda client, i: client.put(f"/api/v1/events/{rush}/registration", json=bodies[i]),
        )
        rush_lat = [(finished - started) * 1000 for _r, started, finished in runs]
        rush_errors = sum(1 for r, _s, _f in runs if r.status_code != 200)
        taken, capacity, held = seats_of(rush)
        user_of = dict(enumerate(data["user_ids"]))
        seq = dict(
            db_rows(
                "SELECT user_id, waitlist_seq FROM events_registration WHERE event_id = %s "
                "AND status = 'waitlisted'",
                [rush],
            )
        )
        refused = [
            (user_of[i], started, finished)
            for i, (r, started, finished) in enumerate(runs)
            if r.status_code == 200 and r.json()["state"] == "waitlisted"
        ]
        order_ok = sorted(seq.values()) == list(range(1, len(seq) + 1)) and {
            u for u, _s, _f in refused
        } == set(seq)
        inversions = 0
        for x, _xs, x_done in refused:
            for y, y_start, _yd in refused:
                if x_done < y_start and seq[x] > seq[y]:
                    inversions += 1
        order_ok = order_ok and inversions == 0
        confirmed_seats = db_rows(
            "SELECT coalesce(sum(seats), 0) FROM events_registration WHERE event_id = %s "
            "AND status = 'confirmed'",
            [rush],
        )[0][0]
        log(
            f"rush: {RUSH_MEMBERS} members for {RUSH_SEATS} seats: confirmed seats "
            f"{confirmed_seats}, counter {taken}, held {held}, waitlisted {len(seq)}, "
            f"p99 {p(rush_lat, 0.99):.0f} ms, errors {rush_errors}, order ok {order_ok}"
        )

        # --- cancellations under load ------------------------------------------------------
        line_before = line_of(rush)
        seated_index = [
            i
            for i, (r, _s, _f) in enumerate(runs)
            if r.status_code == 200 and r.json()["state"] == "confirmed"
        ][:CANCELLERS]
        late_index = list(range(RUSH_MEMBERS, RUSH_MEMBERS + LATECOMERS))
        who = seated_index + late_index
        mixed_tokens = [data["tokens"][i] for i in who]

        def cancel_or_join(client, k):
            url = f"/api/v1/events/{rush}/registration"
            if k < len(seated_index):
                return client.delete(url)
            return client.put(url, json={"guests": 0})

        storm = at_once(base, mixed_tokens, cancel_or_join)
        storm_errors = sum(1 for r, _s, _f in storm if r.status_code != 200)
        states = dict(
            db_rows("SELECT user_id, status FROM events_registration WHERE event_id = %s", [rush])
        )
        promoted = [u for u in line_before if states[u] == "confirmed"]
        promoted_prefix_ok = promoted == line_before[: len(promoted)]
        line_after = line_of(rush)
        latecomers = {user_of[i] for i in late_index}
        old_rest = [u for u in line_after if u not in latecomers]
        latecomers_behind = line_after[: len(old_rest)] == old_rest
        taken2, _cap, held2 = seats_of(rush)
        log(
            f"cancellations: {len(seated_index)} cancelled with {LATECOMERS} latecomers; "
            f"promoted {len(promoted)}, prefix ok {promoted_prefix_ok}, seats {taken2}/{held2}, "
            f"latecomers behind {latecomers_behind}, errors {storm_errors}"
        )

        summary = {
            "signup_rps": signup_rps,
            "signup_p50_ms": round(p(sign_lat, 0.5), 1),
            "signup_p99_ms": round(p(sign_lat, 0.99), 1),
            "signup_errors": sign_err,
            "signups_all_confirmed": all_confirmed == 0,
            "baseline_rps": baseline_rps,
            "ratio": round(signup_rps / baseline_rps, 3) if baseline_rps else None,
            "floor_rps": floor_rps,
            "floor_errors": floor_err,
            "signup_over_floor": round(signup_rps / floor_rps, 3) if floor_rps else None,
            "rush_members": RUSH_MEMBERS,
            "rush_capacity": capacity,
            "oversold": max(0, taken - capacity) + max(0, confirmed_seats - capacity),
            "confirmed_seats": confirmed_seats,
            "seats_counter_matches": taken == held,
            "waitlisted": len(seq),
            "waitlist_order_ok": order_ok,
            "rush_p99_ms": round(p(rush_lat, 0.99), 1),
            "rush_errors": rush_errors,
            "cancelled": len(seated_index),
            "promoted": len(promoted),
            "promoted_prefix_ok": promoted_prefix_ok,
            "seats_after_cancel": taken2,
            "seats_after_cancel_match": taken2 == held2,
            "latecomers_behind": latecomers_behind,
            "cancel_errors": storm_errors,
            "clients": CLIENTS,
            "workers": WORKERS,
            "threads": THREADS,
            "seconds_per_phase": SECONDS,
            **{f"{name}_cpu_ms": t.cpu_ms("server") for name, t in totals.items()},
            **{f"{name}_pg_cpu_ms": t.cpu_ms("pg") for name, t in totals.items()},
        }
        print(json.dumps(summary), flush=True)
        return 0
    finally:
        gunicorn_stop(server)
        database_drop(DB_NAME)
        task_queue_drop(ENV)


if __name__ == "__main__":
    sys.exit(main())
