"""Where a survey submit's CPU goes, piece by piece, Python and PostgreSQL, in one process.

Run with the project's virtualenv (not collected by pytest)::

    .venv/bin/python tests/benchmarks/profile_submit.py

Creates its own database ``profile_submit_<pid>`` (``BENCH_PG``) and seeds it as
``bench_surveys.py`` does (the same 20-question surveys, named and anonymous, and members),
then sends requests through Django's WSGI handler in this process, one at a time, with the
survey benchmark's settings (production settings, the cache on ``BENCH_REDIS``, the floor's
URL): ``GET /api/v1/me`` (the baseline), the named submit, the anonymous submit and the floor
(``survey_floor.py``), in alternating rounds of ``BENCH_CALLS`` requests. For each it reports
the CPU per request of this process (``time.process_time``) and of the connection's PostgreSQL
backends (``/proc/<pid>/schedstat``, nanoseconds), and ``over_baseline`` / ``over_floor``
(total CPU ratios, the inverse of the HTTP benchmark's rate ratios, without gunicorn's share).

Then it does it all again with the pieces of the submit path (authentication, throttle,
membership check, validation, the one statement that writes it all -- on its own, no
transaction around it --, the activity count, the answer shown back...) wrapped with the same
two clocks, and prints what each costs per request of the named and the anonymous submit, and
what is left for the rest (middleware, DRF, parsing, rendering, the pool). The clocks add their
own cost (two reads of ``/proc`` each), most of it to "the rest", and print the totals with
them. No worker mixes the anonymous box here: its PostgreSQL figures are the requests' own.
The last line printed is one JSON object with the figures."""

from __future__ import annotations

import functools
import io
import json
import os
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

os.environ["BENCH_EXPORTS"] = "0"  # the survey benchmark's seeding, without the export data
from tests.benchmarks import bench_surveys  # noqa: E402  (seeding of the survey benchmark)
from tests.benchmarks.harness import (  # noqa: E402
    bench_env,
    database_create,
    database_drop,
    log,
    run_ns,
    task_queue_drop,
    task_queue_env,
)

DB_NAME = f"profile_submit_{os.getpid()}"
CALLS = int(os.environ.get("BENCH_CALLS", "500"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
ENV = bench_env(DB_NAME, "tests.benchmarks.survey_settings", **task_queue_env("profile"))
os.environ.update(ENV)


#: The PostgreSQL backends of the benchmark's database, found again before each measure.
BACKENDS: list[int] = []


def backends_find() -> None:
    import subprocess

    found = subprocess.run(
        ["pgrep", "-f", f"postgres: .* {DB_NAME} "], capture_output=True, text=True
    ).stdout.split()
    BACKENDS[:] = [int(pid) for pid in found]


def backend_ns() -> dict[int, int]:
    """CPU time so far (ns) of each of :data:`BACKENDS`."""
    times = {pid: run_ns(pid) for pid in BACKENDS}
    return {pid: ns for pid, ns in times.items() if ns is not None}  # leave out ended ones


def spent(before: dict[int, int]) -> int:
    """PostgreSQL CPU (ns) of :data:`BACKENDS` since ``before`` (a backend that ended
    meanwhile is left out, as is one that started: with the pool, connections outlive the
    run; with ``CONN_MAX_AGE`` they are found again at the next measure)."""
    after = backend_ns()
    return sum(ns - before[pid] for pid, ns in after.items() if pid in before)


class Client:
    """Requests through Django's WSGI handler, as gunicorn would make them."""

    def __init__(self, data: dict):
        from django.core.wsgi import get_wsgi_application

        self.app = get_wsgi_application()
        self.tokens = data["tokens"]
        self.endpoints = bench_surveys.endpoints(data)
        self.sent = 0

    def send(self, name: str) -> None:
        method, path, bodies, expect = self.endpoints[name]
        body = bodies[self.sent % len(bodies)].encode() if bodies else b""
        token = self.tokens[self.sent % len(self.tokens)]
        self.sent += 1
        environ = {
            "REQUEST_METHOD": method,
            "PATH_INFO": path,
            "QUERY_STRING": "",
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "8000",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "HTTP_HOST": "127.0.0.1",
            "HTTP_AUTHORIZATION": f"Bearer {token}",
            "CONTENT_TYPE": "application/json",
            "CONTENT_LENGTH": str(len(body)),
            "REMOTE_ADDR": "127.0.0.1",
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
        }
        status: list[str] = []
        out = self.app(environ, lambda s, headers, *exc: status.append(s))
        answer = b"".join(out)
        out.close()
        if not status[0].startswith(str(expect)):
            raise SystemExit(f"{name}: {status[0]} {answer[:300]!r}")


def measure(client: Client, name: str, calls: int) -> tuple[float, float]:
    """(Python ms, PostgreSQL ms) per request of ``calls`` requests to ``name``."""
    backends_find()
    pg, py = backend_ns(), time.process_time_ns()
    for _ in range(calls):
        client.send(name)
    py = time.process_time_ns() - py
    return py / calls / 1e6, spent(pg) / calls / 1e6


class Pieces:
    """Per-piece clocks (Python and PostgreSQL) around functions of the submit path."""

    def __init__(self):
        self.python: Counter[str] = Counter()
        self.postgres: Counter[str] = Counter()

    def wrap(self, owner, attribute: str, label: str) -> None:
        fn = getattr(owner, attribute)

        @functools.wraps(fn)
        def inner(*args, **kwargs):
            pg, py = backend_ns(), time.process_time_ns()
            try:
                return fn(*args, **kwargs)
            finally:
                self.python[label] += time.process_time_ns() - py
                self.postgres[label] += spent(pg)

        setattr(owner, attribute, inner)


def pieces_install(pieces: Pieces) -> list[str]:
    from django.db import transaction

    import community.authentication as authentication
    import community.throttling as throttling
    import insights.recording as recording
    import surveys.api as api
    import surveys.services.responses as responses

    wanted = [
        (authentication.BearerTokenAuthentication, "authenticate", "authentication"),
        (throttling.FailOpenRateThrottle, "allow_request", "write throttle (Redis)"),
        (api, "survey_for_member", "membership check"),
        (api, "validated", "request validation"),
        (responses, "clean_response", "answers validated (engine)"),
        (responses, "_new_response", "response object (named)"),
        (responses, "_seal_submission", "response sealed (anonymous)"),
        (responses.response_store, "submission_at_once", "the one statement (participation too)"),
        (transaction.Atomic, "__exit__", "commit and after-commit work (transactions only)"),
        (recording, "_record_now", "the activity count (Redis, after the write)"),
        (api, "_submitted_body", "answer shown back (body)"),
        (api, "represent", "answer shown back (serializer)"),
    ]
    for owner, attribute, label in wanted:
        pieces.wrap(owner, attribute, label)
    return [label for *_, label in wanted]


def phase(client: Client, names: list[str], pieces: Pieces | None = None) -> dict[str, dict]:
    """``ROUNDS`` alternating rounds of ``CALLS`` requests to each of ``names``: mean CPU per
    request (ms) and, with ``pieces``, each piece's."""
    figures = {name: {"python": 0.0, "postgres": 0.0, "pieces": Counter()} for name in names}
    for _round in range(ROUNDS):
        for name in names:
            if pieces:
                pieces.python.clear()
                pieces.postgres.clear()
            py, pg = measure(client, name, CALLS)
            figures[name]["python"] += py / ROUNDS
            figures[name]["postgres"] += pg / ROUNDS
            if pieces:
                for label in pieces.python:
                    per_request = CALLS * ROUNDS * 1e6  # ns -> ms per request, mean of rounds
                    figures[name]["pieces"][(label, 0)] += pieces.python[label] / per_request
                    figures[name]["pieces"][(label, 1)] += pieces.postgres[label] / per_request
    return figures


def report(figures: dict[str, dict]) -> dict[str, object]:
    result: dict[str, object] = {}
    for name, f in figures.items():
        py, pg = f["python"], f["postgres"]
        log(f"{name:12s} python {py:6.3f} ms  postgres {pg:6.3f} ms  total {py + pg:6.3f}")
        result[name] = {"python_ms": round(py, 3), "postgres_ms": round(pg, 3)}
    total = {name: f["python"] + f["postgres"] for name, f in figures.items()}
    for name in ("submit", "anon_submit"):
        result[f"{name}_over_baseline"] = round(total[name] / total["baseline"], 2)
        result[f"{name}_over_floor"] = round(total[name] / total["floor"], 2)
    return result


def main() -> None:
    database_create(DB_NAME, ENV)
    try:
        data = bench_surveys.seed()
        client = Client(data)
        names = list(client.endpoints)
        for name in names:  # warm-up: definition cache, prepared statements, the pool
            measure(client, name, 50)
        log("whole requests, mean CPU per request:")
        result = report(phase(client, names))

        pieces = Pieces()
        labels = pieces_install(pieces)
        log("\nthe same with the pieces clocked (the clocks add their own cost):")
        figures = phase(client, names, pieces)
        result["with_pieces"] = report(figures)
        for name in ("submit", "anon_submit"):
            counted = figures[name]["pieces"]
            split = {
                label: [round(counted[(label, 0)], 3), round(counted[(label, 1)], 3)]
                for label in labels
                if counted[(label, 0)]
            }
            top = [value for label, value in split.items() if not label.startswith(" ")]
            split["the rest (middleware, DRF, parsing, rendering, the clocks' reads)"] = [
                round(figures[name]["python"] - sum(py for py, _ in top), 3),
                round(figures[name]["postgres"] - sum(pg for _, pg in top), 3),
            ]
            log(f"\n{name}: per request, python ms / postgres ms")
            for label, (py, pg) in split.items():
                log(f"  {label:62s} {py:6.3f} {pg:6.3f}")
            result[f"{name}_pieces"] = split
        from django.db import connections

        connections.close_all()
    finally:
        database_drop(DB_NAME)
        task_queue_drop(ENV)
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
