"""Benchmark of moving task cards on one board under gunicorn on PostgreSQL (not run by pytest).

    .venv/bin/python tests/benchmarks/bench_boards.py

Creates its own database ``bench_boards_<pid>`` on the local PostgreSQL, migrates and seeds one
board (3 columns, 500 tasks; each of the 32 members is assigned 4 of them), starts gunicorn on
127.0.0.1 (a free port) and lets all members move their own cards at once (random target
column, random index: the hot path of ``POST /tasks/{id}/move`` with the assignee rule, the
column locks and the rebalance), alternating with the authenticated baseline (``GET /me``).
Then it checks the board: no two tasks at one position, no task lost, and counts the
rebalances. The last line printed is one JSON object: ``move_rps``, ``baseline_rps``,
``ratio``, ``floor_rps``, ``move_over_floor``, ``duplicate_positions``, ``lost_tasks``,
``rebalances_per_10k_moves``, ``board_read_ms`` (the whole board, 500 tasks), CPU per request
(``*_cpu_ms``: the gunicorn processes; ``*_pg_cpu_ms``: the benchmark database's PostgreSQL
backends, from ``/proc``) ...

The floor: gunicorn runs with ``tests.benchmarks.board_settings``, whose URL module
(``tests/benchmarks/board_floor.py``, never in production URLs) adds the minimal raw-SQL move
behind the same token authentication (the target column locked, the neighbours read, the task
updated; nothing else). It moves the members' cards on a second board seeded like the first, so
the checks of the real board see only real moves. ``floor_rps`` is its rate and
``move_over_floor`` the real move's rate over it, measured in the same run in alternating
slices with the baseline and the real move.

Environment knobs: BENCH_PG (default postgres://postgres@127.0.0.1:5432), BENCH_CLIENTS (32),
BENCH_SECONDS (16 per phase, in 4 alternating slices), BENCH_WORKERS (2 * cores + 1),
BENCH_THREADS (gthread threads per worker, 2).
"""

from __future__ import annotations

import json
import os
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.benchmarks.harness import (  # noqa: E402  (the benchmarks' shared plumbing)
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
    median_latency,
    p,
    ratio,
    rounds,
)

DB_NAME = f"bench_boards_{os.getpid()}"
CLIENTS = int(os.environ.get("BENCH_CLIENTS", "32"))
SECONDS = float(os.environ.get("BENCH_SECONDS", "16"))
ROUNDS = 4
THREADS = int(os.environ.get("BENCH_THREADS", "2"))
TASKS = 500
PER_MEMBER = 4

ENV = bench_env(
    DB_NAME,
    "tests.benchmarks.board_settings",
    THROTTLE_WRITES="10000000/min",
    DB_POOL_MAX="4",
    WECHAT_CONTENT_CHECK="0",
)


def seed() -> dict:
    """Members with tokens and two boards (the real moves' and the floor's) of 500 tasks each,
    4 tasks of each board assigned to each member."""
    django_setup(ENV)
    from community.models import Community, Membership, Tier, User
    from community.services.tokens import token_issue
    from roles.models import Task, TaskAssignee
    from roles.positions import spread
    from roles.services import boards as board_services

    community = Community.objects.create(name="bench")
    owner = User.objects.create_user("owner")
    owner_m = Membership.objects.create(community=community, user=owner, tier=Tier.OWNER)
    owner_m.community = community
    users = []
    for i in range(CLIENTS):
        user = User.objects.create_user(f"m{i}", nickname=f"member {i}")
        Membership.objects.create(community=community, user=user)
        users.append(user)
    rng = random.Random(11)

    def board_of(title: str) -> tuple[str, list[str], list[list[str]]]:
        board = board_services.board_create(actor=owner_m, title=title)
        columns = list(board.columns.order_by("position"))
        per_column = [TASKS // 3 + (1 if i < TASKS % 3 else 0) for i in range(3)]
        tasks = []
        for column, count in zip(columns, per_column, strict=True):
            tasks += [
                Task(
                    community=community,
                    board=board,
                    column=column,
                    position=position,
                    title=f"task {len(tasks) + i}",
                )
                for i, position in enumerate(spread(count))
            ]
        Task.objects.bulk_create(tasks)
        pool = [t.pk for t in tasks]
        rng.shuffle(pool)
        mine = [pool[i * PER_MEMBER : (i + 1) * PER_MEMBER] for i in range(CLIENTS)]
        TaskAssignee.objects.bulk_create(
            TaskAssignee(community=community, task_id=task_id, user=user)
            for user, own in zip(users, mine, strict=True)
            for task_id in own
        )
        return board.pk, [c.pk for c in columns], mine

    board, columns, mine = board_of("bench board")
    floor_board, floor_columns, floor_mine = board_of("floor board")
    from django.db import connection

    connection.cursor().execute("ANALYZE")
    connection.close()
    return {
        "tokens": [token_issue(user=user).raw for user in users],
        "mine": mine,
        "board": board,
        "columns": columns,
        "floor_board": floor_board,
        "floor_columns": floor_columns,
        "floor_mine": floor_mine,
        "owner_token": token_issue(user=owner).raw,
    }


def check(board_id: str) -> dict:
    """The board after the storm: positions shared, tasks lost, rebalances and moves."""
    from django.db import connection

    from roles.models import Activity, Task

    with connection.cursor() as cur:
        cur.execute(
            "SELECT count(*) FROM (SELECT column_id, position FROM roles_task WHERE board_id = %s "
            "GROUP BY column_id, position HAVING count(*) > 1) d",
            [board_id],
        )
        duplicates = cur.fetchone()[0]
    on_board = Task.objects.filter(board_id=board_id, column__board_id=board_id).count()
    moves = Activity.objects.filter(board_id=board_id, verb="task_moved")
    return {
        "duplicate_positions": duplicates,
        "lost_tasks": TASKS - on_board,
        "moves_logged": moves.count(),
        "rebalances": moves.filter(data__rebalanced=True).count(),
    }


def main() -> int:
    server = None
    try:
        database_create(DB_NAME, ENV)
        data = seed()
        server, base = gunicorn_start(ENV, threads=THREADS)
        tokens = data["tokens"]
        log(
            f"gunicorn: {WORKERS} workers x {THREADS} threads; {len(tokens)} clients; "
            f"{SECONDS}s per phase; {TASKS} tasks on one board"
        )
        rng = random.Random(7)
        plan = [
            (rng.randrange(3), rng.randrange(60), rng.randrange(PER_MEMBER)) for _ in range(997)
        ]

        def mover(prefix: str, columns: list[str], mine: list[list[str]]):
            def move(client, i, n):
                column, index, which = plan[(i * 31 + n) % 997]
                return client.post(
                    f"{prefix}/tasks/{mine[i][which]}/move",
                    json={"column_id": columns[column], "index": index},
                )

            return move

        def me(client, i, n):
            return client.get("/api/v1/me")

        meter = CpuMeter(server.pid, DB_NAME)

        def slice_of(request):
            return lambda: drive(base, tokens, request, SECONDS / ROUNDS, meter)

        totals = rounds(
            {
                "baseline": slice_of(me),
                "floor": slice_of(mover("/bench/floor", data["floor_columns"], data["floor_mine"])),
                "move": slice_of(mover("/api/v1", data["columns"], data["mine"])),
            },
            ROUNDS,
        )
        meter.close()
        for name, t in totals.items():
            log(t.line(name))
        # One decimal: on a loaded machine moves run at a few per second.
        baseline_rps, base_lat = round(totals["baseline"].rps, 1), totals["baseline"].latencies
        move_rps, move_lat = round(totals["move"].rps, 1), totals["move"].latencies
        floor_rps = round(totals["floor"].rps, 1)
        board_ms = median_latency(base, data["owner_token"], f"/api/v1/boards/{data['board']}", 20)
        log(f"board read (3 columns, {TASKS} tasks) median {board_ms} ms")
        outcome = check(data["board"])
        floor_outcome = check(data["floor_board"])
        moves = outcome["moves_logged"]
        summary = {
            "move_rps": move_rps,
            "move_p50_ms": round(p(move_lat, 0.5), 1),
            "move_p99_ms": round(p(move_lat, 0.99), 1),
            "move_errors": totals["move"].errors,
            "baseline_rps": baseline_rps,
            "baseline_p99_ms": round(p(base_lat, 0.99), 1),
            "ratio": ratio(move_rps, baseline_rps),
            "floor_rps": floor_rps,
            "floor_ratio": ratio(floor_rps, baseline_rps),
            "move_over_floor": ratio(move_rps, floor_rps),
            "floor_errors": totals["floor"].errors,
            **{f"{name}_cpu_ms": t.cpu_ms("server") for name, t in totals.items()},
            **{f"{name}_pg_cpu_ms": t.cpu_ms("pg") for name, t in totals.items()},
            "duplicate_positions": outcome["duplicate_positions"],
            "lost_tasks": outcome["lost_tasks"],
            "floor_duplicate_positions": floor_outcome["duplicate_positions"],
            "moves": moves,
            "rebalances_per_10k_moves": round(outcome["rebalances"] * 10_000 / moves, 1)
            if moves
            else None,
            "board_read_ms": board_ms,
            "tasks": TASKS,
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
