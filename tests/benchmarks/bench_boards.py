"""Benchmark of moving task cards on one board under gunicorn on PostgreSQL (not run by pytest).

    .venv/bin/python tests/benchmarks/bench_boards.py

Creates its own database ``bench_boards_<pid>`` on the local PostgreSQL, migrates and seeds one
board (3 columns, 500 tasks; each of the 32 members is assigned 4 of them), starts gunicorn on
127.0.0.1 (a free port) and lets all members move their own cards at once (random target
column, random index: the hot path of ``POST /tasks/{id}/move`` with the assignee rule, the
column locks and the rebalance), alternating with the authenticated baseline (``GET /me``).
Then it checks the board: no two tasks at one position, no task lost, and counts the
rebalances. The last line printed is one JSON object: ``move_rps``, ``baseline_rps``,
``ratio``, ``duplicate_positions``, ``lost_tasks``, ``rebalances_per_10k_moves``,
``board_read_ms`` (the whole board, 500 tasks) ...

Environment knobs: BENCH_PG (default postgres://postgres@127.0.0.1:5432), BENCH_CLIENTS (32),
BENCH_SECONDS (16 per phase, in 4 alternating slices), BENCH_WORKERS (2 * cores + 1),
BENCH_THREADS (gthread threads per worker, 2).
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.benchmarks.bench_votes import (  # noqa: E402  (shared plumbing of the benchmarks)
    ROOT,
    admin_sql,
    free_port,
    log,
    median_latency,
    p,
)

PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
DB_NAME = f"bench_boards_{os.getpid()}"
CLIENTS = int(os.environ.get("BENCH_CLIENTS", "32"))
SECONDS = float(os.environ.get("BENCH_SECONDS", "16"))
ROUNDS = 4
WORKERS = int(os.environ.get("BENCH_WORKERS", str(2 * (os.cpu_count() or 1) + 1)))
THREADS = int(os.environ.get("BENCH_THREADS", "2"))
TASKS = 500
PER_MEMBER = 4

ENV = {
    **os.environ,
    "DATABASE_URL": f"{PG}/{DB_NAME}",
    "SECRET_KEY": "bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
    "BALLOT_KEY": "bench-only-ballot-key-0123456789-abcdefghijklmnopqrstuvwxyz",
    "DEBUG": "0",
    "SECURE_SSL_REDIRECT": "0",
    "ALLOWED_HOSTS": "127.0.0.1",
    "THROTTLE_WRITES": "10000000/min",
    "DJANGO_SETTINGS_MODULE": "community.settings",
    "LOG_LEVEL": "WARNING",
    "CELERY_BROKER_URL": "",
    "DB_POOL_MAX": "4",
    "WECHAT_CONTENT_CHECK": "0",
}


def drive(base: str, tokens: list[str], request, seconds: float) -> tuple[int, list[float], int]:
    """As ``bench_votes.drive`` (one member, one keep-alive connection per thread), except that
    the clock starts when every thread has warmed its connection: 32 warm-up moves queue
    behind each other's column locks, which on a busy machine can outlast a short slice."""
    import httpx

    latencies: list[list[float]] = [[] for _ in tokens]
    errors = [0] * len(tokens)
    start = threading.Barrier(len(tokens) + 1)
    deadline = [0.0]

    def run(i: int) -> None:
        with httpx.Client(
            base_url=base, headers={"Authorization": f"Bearer {tokens[i]}"}, timeout=30
        ) as client:
            request(client, i, 0)  # warm the connection
            start.wait()
            n = 1
            while time.monotonic() < deadline[0]:
                t0 = time.perf_counter()
                response = request(client, i, n)
                if response.status_code >= 400:
                    errors[i] += 1
                else:
                    latencies[i].append((time.perf_counter() - t0) * 1000)
                n += 1

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(tokens))]
    for thread in threads:
        thread.start()
    deadline[0] = time.monotonic() + 3600
    start.wait()
    deadline[0] = time.monotonic() + seconds
    t0 = time.monotonic()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - t0
    flat = [x for per in latencies for x in per]
    return int(len(flat) / elapsed), flat, sum(errors)


def seed() -> dict:
    """Members with tokens and one board of 500 tasks, 4 assigned to each member."""
    os.environ.update(ENV)
    import django

    django.setup()
    from community.models import Community, Membership, Tier, User
    from community.services.tokens import token_issue
    from roles.models import Task, TaskAssignee
    from roles.positions import spread
    from roles.services import boards as board_services

    community = Community.objects.create(name="bench")
    owner = User.objects.create_user("owner")
    owner_m = Membership.objects.create(community=community, user=owner, tier=Tier.OWNER)
    owner_m.community = community
    board = board_services.board_create(actor=owner_m, title="bench board")
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
    tokens, mine = [], []
    rng = random.Random(11)
    pool = [t.pk for t in tasks]
    rng.shuffle(pool)
    for i in range(CLIENTS):
        user = User.objects.create_user(f"m{i}", nickname=f"member {i}")
        Membership.objects.create(community=community, user=user)
        tokens.append(token_issue(user=user).raw)
        own = pool[i * PER_MEMBER : (i + 1) * PER_MEMBER]
        TaskAssignee.objects.bulk_create(
            TaskAssignee(community=community, task_id=task_id, user=user) for task_id in own
        )
        mine.append(own)
    from django.db import connection

    connection.cursor().execute("ANALYZE")
    connection.close()
    return {
        "tokens": tokens,
        "mine": mine,
        "board": board.pk,
        "columns": [c.pk for c in columns],
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
    admin_sql(f'CREATE DATABASE "{DB_NAME}"')
    server = None
    try:
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=ENV, check=True
        )
        data = seed()
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server = subprocess.Popen(
            [
                str(Path(sys.executable).with_name("gunicorn")),
                "community.wsgi:application",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                str(WORKERS),
                "--worker-class",
                "gthread",
                "--threads",
                str(THREADS),
                "--keep-alive",
                "30",
                "--backlog",
                "2048",
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=ENV,
        )
        import httpx

        for _ in range(100):
            try:
                httpx.get(f"{base}/api/v1/me", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.2)
        tokens = data["tokens"]
        log(
            f"gunicorn: {WORKERS} workers x {THREADS} threads; {len(tokens)} clients; "
            f"{SECONDS}s per phase; {TASKS} tasks on one board"
        )
        columns, mine = data["columns"], data["mine"]
        rng = random.Random(7)
        plan = [
            (rng.randrange(3), rng.randrange(60), rng.randrange(PER_MEMBER)) for _ in range(997)
        ]

        def move(client, i, n):
            column, index, which = plan[(i * 31 + n) % 997]
            return client.post(
                f"/api/v1/tasks/{mine[i][which]}/move",
                json={"column_id": columns[column], "index": index},
            )

        def me(client, i, n):
            return client.get("/api/v1/me")

        totals = {"baseline": [0.0, [], 0], "move": [0.0, [], 0]}
        for _round in range(ROUNDS):
            for name, request in (("baseline", me), ("move", move)):
                rps, lat, err = drive(base, tokens, request, SECONDS / ROUNDS)
                totals[name][0] += rps / ROUNDS
                totals[name][1] += lat
                totals[name][2] += err
        baseline_rps, base_lat, base_err = int(totals["baseline"][0]), *totals["baseline"][1:]
        move_rps, move_lat, move_err = int(totals["move"][0]), *totals["move"][1:]
        log(
            f"baseline GET /me: {baseline_rps} req/s, p50 {p(base_lat, 0.5):.1f} ms, "
            f"p99 {p(base_lat, 0.99):.1f} ms, errors {base_err}"
        )
        log(
            f"move POST /tasks/{{id}}/move: {move_rps} req/s, p50 {p(move_lat, 0.5):.1f} ms, "
            f"p99 {p(move_lat, 0.99):.1f} ms, errors {move_err}"
        )
        board_ms = median_latency(base, data["owner_token"], f"/api/v1/boards/{data['board']}", 20)
        log(f"board read (3 columns, {TASKS} tasks) median {board_ms} ms")
        outcome = check(data["board"])
        moves = outcome["moves_logged"]
        summary = {
            "move_rps": move_rps,
            "move_p50_ms": round(p(move_lat, 0.5), 1),
            "move_p99_ms": round(p(move_lat, 0.99), 1),
            "move_errors": move_err,
            "baseline_rps": baseline_rps,
            "baseline_p99_ms": round(p(base_lat, 0.99), 1),
            "ratio": round(move_rps / baseline_rps, 3) if baseline_rps else None,
            "duplicate_positions": outcome["duplicate_positions"],
            "lost_tasks": outcome["lost_tasks"],
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
        if server is not None:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
        admin_sql(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')


if __name__ == "__main__":
    sys.exit(main())
