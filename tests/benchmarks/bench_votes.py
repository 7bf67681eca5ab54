"""Benchmark of the vote and results endpoints under gunicorn on PostgreSQL (not run by pytest).

    .venv/bin/python tests/benchmarks/bench_votes.py

Creates its own database ``bench_votes_<pid>`` on the local PostgreSQL, migrates and seeds it,
starts gunicorn on 127.0.0.1 (a free port), drives concurrent authenticated members over
keep-alive connections, then stops gunicorn and drops the database. The last line printed is
one JSON object with the figures (``vote_rps``, ``vote_p99_ms``, ``baseline_rps``, ``ratio``,
``secret_vote_rps``, ``secret_ratio`` (members changing secret votes through the ballot box),
``results_ms_small``, ``results_ms_large``, ``results_ms_ranked_large`` ...).

The floor: gunicorn runs with ``tests.benchmarks.vote_settings``, whose URL module
(``tests/benchmarks/vote_floor.py``, never in production URLs) adds the minimal raw-SQL vote
behind the same token authentication. Its rate is ``floor_rps``; ``vote_over_floor`` and
``secret_vote_over_floor`` put the real named and secret votes over it, ``ratio``,
``secret_ratio`` and ``floor_ratio`` over the authenticated baseline ``GET /me``, all measured
in the same run in alternating slices. CPU per request (``*_cpu_ms``: the gunicorn processes;
``*_pg_cpu_ms``: the PostgreSQL backends of the benchmark's database) is read from ``/proc``
(utime + stime deltas over each slice, divided by the requests answered in it), so a
regression shows where it went. ``mix_100_ms`` times mixing a box of 100 secret ballots
(``mix_100_locked_ms``: of that, the time the poll row was held). During
the secret slices a thread mixes the box whenever a batch waits, as a worker would
(``secret_mixes``, ``secret_mixed_entries``; ``secret_mix_cpu_ms``: its CPU per mixed entry,
Python -- in no other figure -- and its PostgreSQL backend's, part of ``secret_pg_cpu_ms``).

Environment knobs: BENCH_PG (default postgres://postgres@127.0.0.1:5432), BENCH_CLIENTS (64),
BENCH_SECONDS (16 per phase, in 4 alternating slices), BENCH_LARGE (100,000 ballots in the large polls),
BENCH_WORKERS (2 * cores + 1), BENCH_THREADS (gthread threads
per worker, 2).
"""

from __future__ import annotations

import itertools
import json
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.benchmarks.harness import (  # noqa: E402  (the benchmarks' shared plumbing)
    WORKERS,
    CpuMeter,
    Mixer,
    Slice,
    bench_env,
    database_create,
    database_drop,
    django_setup,
    drive,
    gunicorn_start,
    gunicorn_stop,
    log,
    median_latency,
    p,
    ratio,
    rounds,
)

DB_NAME = f"bench_votes_{os.getpid()}"
CLIENTS = int(os.environ.get("BENCH_CLIENTS", "64"))
SECONDS = float(os.environ.get("BENCH_SECONDS", "16"))
ROUNDS = 4
THREADS = int(os.environ.get("BENCH_THREADS", "2"))
LARGE = int(os.environ.get("BENCH_LARGE", "100000"))
SMALL = 100
RESULT_SAMPLES = 60

ENV = bench_env(
    DB_NAME, "tests.benchmarks.vote_settings", THROTTLE_WRITES="10000000/min", DB_POOL_MAX="4"
)


# --- seeding ---------------------------------------------------------------------------------
def seed() -> dict:
    """Members with tokens, a poll to vote in, and polls with 100 / 100,000 ballots."""
    django_setup(ENV)
    from datetime import timedelta

    from django.db import connection, transaction
    from django.utils import timezone

    from community.models import Community, Membership, Tier, User
    from community.services.tokens import token_issue
    from polls import services
    from polls.models import Poll

    community = Community.objects.create(name="bench")
    owner = User.objects.create_user("owner")
    owner_m = Membership.objects.create(community=community, user=owner, tier=Tier.OWNER)
    owner_m.community = community
    tokens = []
    for i in range(CLIENTS):
        user = User.objects.create_user(f"m{i}", nickname=f"member {i}")
        Membership.objects.create(community=community, user=user)
        tokens.append(token_issue(user=user).raw)
    closes = timezone.now() + timedelta(days=7)

    def make(kind: str, labels):
        return services.poll_create(
            actor=owner_m,
            title=f"{kind} bench",
            kind=kind,
            closes_at=closes,
            options=[{"label": label} for label in labels],
        )

    vote_poll = make("single", ["A", "B", "C", "D"])
    secret_poll = services.poll_create(
        actor=owner_m,
        title="secret bench",
        kind="single",
        closes_at=closes,
        secret=True,
        options=[{"label": label} for label in ["A", "B", "C", "D"]],
    )
    small = make("single", ["A", "B", "C", "D"])
    floor_poll = make("single", ["A", "B", "C", "D"])
    mix_poll = services.poll_create(
        actor=owner_m,
        title="mix bench",
        kind="ranked",
        closes_at=closes,
        secret=True,
        min_ballots_to_show=SMALL,
        options=[{"label": label} for label in ["A", "B", "C", "D", "E"]],
    )
    large = make("single", ["A", "B", "C", "D"])
    ranked = make("ranked", ["A", "B", "C", "D", "E"])

    # 100,000 members (bulk SQL) who vote in the large polls; ballots and tallies written
    # directly, as the cast service would leave them.
    started = time.monotonic()
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(
            """
            INSERT INTO community_user (id, password, is_superuser, username, openid, unionid,
                nickname, avatar_url, is_active, is_staff, date_joined)
            SELECT 'b' || lpad(i::text, 11, '0'), '!', false, 'bench' || i, NULL, '', '', '',
                true, false, now()
            FROM generate_series(1, %s) AS i
            """,
            [LARGE],
        )
        cur.execute(
            """
            INSERT INTO community_membership (id, community_id, user_id, tier, status,
                joined_at, last_active_at, rules_accepted_version)
            SELECT 'm' || lpad(i::text, 11, '0'), %s, 'b' || lpad(i::text, 11, '0'), 'member',
                'active', now(), now(), 0
            FROM generate_series(1, %s) AS i
            """,
            [community.pk, LARGE],
        )
        large_ids = list(large.options.values_list("id", flat=True))
        cur.execute(
            """
            INSERT INTO polls_ballot (community_id, poll_id, voter_id, choices, reason,
                created_at, updated_at)
            SELECT %s, %s, 'b' || lpad(i::text, 11, '0'),
                jsonb_build_object('option_ids', jsonb_build_array((%s::text[])[1 + i %% 4])),
                '', now(), now()
            FROM generate_series(1, %s) AS i
            """,
            [community.pk, large.pk, large_ids, LARGE],
        )
        ranked_ids = list(ranked.options.values_list("id", flat=True))
        rankings = [">".join(p) for n in range(1, 6) for p in itertools.permutations(ranked_ids, n)]
        cur.execute(
            """
            INSERT INTO polls_ballot (community_id, poll_id, voter_id, choices, reason,
                created_at, updated_at)
            SELECT %s, %s, 'b' || lpad(i::text, 11, '0'),
                jsonb_build_object('ranking', to_jsonb(string_to_array(
                    (%s::text[])[1 + (i * 7919 + i / 7) %% %s], '>'))),
                '', now(), now()
            FROM generate_series(1, %s) AS i
            """,
            [community.pk, ranked.pk, rankings, len(rankings), LARGE],
        )
        # Tallies from the ballots, exactly what casting them one by one would have left.
        for poll, expr in (
            (large, "b.choices->'option_ids'->>0"),
            (
                ranked,
                "array_to_string(ARRAY(SELECT jsonb_array_elements_text(b.choices->'ranking')), '>')",
            ),
        ):
            cur.execute(
                f"""
                INSERT INTO polls_tally (community_id, poll_id, key, count)
                SELECT %s, %s, k, count(*) FROM (
                    SELECT {expr} AS k FROM polls_ballot b WHERE b.poll_id = %s
                ) s GROUP BY k
                UNION ALL SELECT %s, %s, '*', %s
                """,  # noqa: S608 - fixed expressions above
                [community.pk, poll.pk, poll.pk, community.pk, poll.pk, LARGE],
            )
            Poll.objects.filter(pk=poll.pk).update(voter_count=LARGE, eligible_count=LARGE)
    log(f"seeded {LARGE:,} ballots x 2 in {time.monotonic() - started:.1f}s")
    cur = connection.cursor()
    cur.execute("ANALYZE")
    # 100 ballots through the real service.
    members = list(
        Membership.objects.filter(
            community=community, user__username__startswith="bench"
        ).select_related("user", "community")[:SMALL]
    )
    small_ids = list(small.options.values_list("id", flat=True))
    for i, membership in enumerate(members):
        services.ballot_cast(
            membership=membership, poll=small, body={"option_ids": [small_ids[i % 4]]}
        )
    # 100 sealed ballots waiting in a box (k = 100), for the timed mix.
    mix_ids = list(mix_poll.option_order)
    for i, membership in enumerate(members):
        ranking = mix_ids[i % 5 :] + mix_ids[: i % 5]
        services.ballot_cast(membership=membership, poll=mix_poll, body={"ranking": ranking})
    vote_ids = list(vote_poll.options.values_list("id", flat=True))
    connection.close()
    return {
        "community": community.pk,
        "tokens": tokens,
        "vote_poll": vote_poll.pk,
        "secret_poll": secret_poll.pk,
        "secret_options": list(secret_poll.option_order),
        "vote_options": vote_ids,
        "floor_poll": floor_poll.pk,
        "floor_options": list(floor_poll.option_order),
        "mix_poll": mix_poll.pk,
        "small": small.pk,
        "large": large.pk,
        "ranked": ranked.pk,
    }


def time_mix_100(poll_id: str) -> tuple[float, float]:
    """Milliseconds to mix the 100 sealed ballots seeded in ``poll_id`` (k = 100) as the task
    does (the entries decrypted first, then one transaction with the poll row locked), and of
    that the time the poll row was held (which voters wait for)."""
    from django.db import transaction

    from community.locking import lock_rows
    from polls import services
    from polls.box_store import box_open
    from polls.models import Poll

    started = time.perf_counter()
    opened = box_open(poll_id)
    locked_at = time.perf_counter()
    with transaction.atomic():
        poll = lock_rows(Poll.objects.filter(pk=poll_id)).get()
        mixed = services.box_mix_locked(poll, everything=True, opened=opened)
    ended = time.perf_counter()
    if mixed != SMALL:
        log(f"the mix poll's box held {mixed} entries, not {SMALL} (mixed while seeding?)")
    return round((ended - started) * 1000, 1), round((ended - locked_at) * 1000, 1)


def check_secret_box(poll_id: str) -> bool:
    """After the storm: mix what waits in the secret poll's box (as the close would), then its
    mixed ballots, tallies, participations and ``voter_count`` must agree."""
    from django.db import transaction

    from community.locking import lock_rows
    from polls import services
    from polls.ballots import VOTERS_KEY
    from polls.models import Participation, Poll, SecretBallot, Tally

    with transaction.atomic():
        poll = lock_rows(Poll.objects.filter(pk=poll_id)).get()
        services.box_mix_locked(poll, everything=True)
    poll.refresh_from_db()
    ballots = SecretBallot.objects.filter(poll_id=poll_id).count()
    tallies = dict(Tally.objects.filter(poll_id=poll_id).values_list("key", "count"))
    voters = tallies.pop(VOTERS_KEY, 0)
    participations = Participation.objects.filter(poll_id=poll_id).count()
    return ballots == voters == participations == poll.voter_count == sum(tallies.values())


def main() -> int:
    server = None
    try:
        database_create(DB_NAME, ENV)
        data = seed()
        server, base = gunicorn_start(ENV, threads=THREADS)
        import httpx

        tokens = data["tokens"]
        log(
            f"gunicorn: {WORKERS} workers x {THREADS} threads; {len(tokens)} clients; {SECONDS}s per phase"
        )

        options = data["vote_options"]
        url = f"/api/v1/polls/{data['vote_poll']}/ballot"
        rng = random.Random(7)
        picks = [rng.randrange(4) for _ in range(997)]

        def cast(client, i, n):
            return client.put(url, json={"option_ids": [options[picks[(i * 31 + n) % 997]]]})

        secret_url = f"/api/v1/polls/{data['secret_poll']}/ballot"
        secret_options = data["secret_options"]

        def cast_secret(client, i, n):
            # A self-chosen receipt: the first request votes, the next ones change the vote
            # through the ballot box (sealed entries, mixed every k).
            option = secret_options[picks[(i * 31 + n) % 997]]
            receipt = f"bench-receipt-{i:06d}-0123456789abcdefghij"
            return client.put(secret_url, json={"option_ids": [option], "receipt": receipt})

        def me(client, i, n):
            return client.get("/api/v1/me")

        floor_url = f"/bench/floor/polls/{data['floor_poll']}/ballot?c={data['community']}"
        floor_options = data["floor_options"]

        def cast_floor(client, i, n):
            return client.put(
                floor_url, json={"option_ids": [floor_options[picks[(i * 31 + n) % 997]]]}
            )

        # Baseline, floor and vote slices alternate, so a change in machine load during the
        # run affects every figure alike.
        meter = CpuMeter(server.pid, DB_NAME)
        from polls.services import poll_box_mix

        mixer = Mixer(
            lambda: poll_box_mix(poll_id=data["secret_poll"], skip_locked=True),
            what="the secret poll's box (poll_box_mix with SKIP LOCKED, as the task)",
        )

        def slice_of(request):
            return lambda: drive(base, tokens, request, SECONDS / ROUNDS, meter)

        def secret_slice() -> Slice:
            with mixer:
                return drive(base, tokens, cast_secret, SECONDS / ROUNDS, meter)

        totals = rounds(
            {
                "baseline": slice_of(me),
                "floor": slice_of(cast_floor),
                "vote": slice_of(cast),
                "secret": secret_slice,
            },
            ROUNDS,
        )
        meter.close()
        for name, t in totals.items():
            log(t.line(name))
        baseline_rps = int(totals["baseline"].rps)
        floor_rps = int(totals["floor"].rps)
        vote_rps, vote_lat = int(totals["vote"].rps), totals["vote"].latencies
        secret_rps, secret_lat = int(totals["secret"].rps), totals["secret"].latencies
        base_lat = totals["baseline"].latencies
        secret_check = check_secret_box(data["secret_poll"])
        mix_ms, mix_locked_ms = time_mix_100(data["mix_poll"])
        log(
            f"mixing a box of 100 secret ballots: {mix_ms} ms; during the secret slices "
            f"{mixer.mixes} mixes of {mixer.mixed} entries (CPU per entry, ms: "
            f"{mixer.cost_per_mixed()}); secret box check: {secret_check}"
        )

        token = tokens[0]
        small = median_latency(
            base, token, f"/api/v1/polls/{data['small']}/results", RESULT_SAMPLES
        )
        large = median_latency(base, token, f"/api/v1/polls/{data['large']}/results")
        ranked = median_latency(base, token, f"/api/v1/polls/{data['ranked']}/results")
        log(
            f"results median: 100 ballots {small} ms, 100,000 ballots {large} ms, "
            f"ranked (IRV, 100,000 ballots, 325 distinct rankings) {ranked} ms"
        )

        # Check: the vote poll's tallies add up to its ballots after the storm.
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}) as client:
            body = client.get(f"/api/v1/polls/{data['vote_poll']}/results").json()
        consistent = sum(o["count"] for o in body["result"]["options"]) == body["participant_count"]

        summary = {
            "floor_rps": floor_rps,
            "floor_ratio": ratio(floor_rps, baseline_rps),
            "vote_over_floor": ratio(vote_rps, floor_rps),
            "secret_vote_over_floor": ratio(secret_rps, floor_rps),
            "vote_rps": vote_rps,
            "vote_p50_ms": round(p(vote_lat, 0.5), 1),
            "vote_p99_ms": round(p(vote_lat, 0.99), 1),
            "vote_errors": totals["vote"].errors,
            "baseline_rps": baseline_rps,
            "baseline_p99_ms": round(p(base_lat, 0.99), 1),
            "baseline_errors": totals["baseline"].errors,
            "ratio": ratio(vote_rps, baseline_rps),
            "secret_vote_rps": secret_rps,
            "secret_vote_p99_ms": round(p(secret_lat, 0.99), 1),
            "secret_vote_errors": totals["secret"].errors,
            "secret_ratio": ratio(secret_rps, baseline_rps),
            **{f"{name}_cpu_ms": t.cpu_ms("server") for name, t in totals.items()},
            **{f"{name}_pg_cpu_ms": t.cpu_ms("pg") for name, t in totals.items()},
            "floor_errors": totals["floor"].errors,
            "mix_100_ms": mix_ms,
            "mix_100_locked_ms": mix_locked_ms,
            "secret_mixes": mixer.mixes,
            "secret_mixed_entries": mixer.mixed,
            "secret_mix_cpu_ms": mixer.cost_per_mixed(),
            "secret_box_consistent": secret_check,
            "results_ms_small": small,
            "results_ms_large": large,
            "results_ms_ranked_large": ranked,
            "large_over_small": round(large / small, 2),
            "tallies_consistent": consistent,
            "clients": len(tokens),
            "workers": WORKERS,
            "threads": THREADS,
            "seconds_per_phase": SECONDS,
        }
        print(json.dumps(summary), flush=True)
        return 0
    finally:
        gunicorn_stop(server)
        database_drop(DB_NAME)


if __name__ == "__main__":
    sys.exit(main())
