"""Shared plumbing of the HTTP benchmarks (``bench_*.py``; not collected by pytest).

Every benchmark does the same around its own seeding and checks: a database of its own on the
local PostgreSQL (:func:`database_create`, :func:`database_drop`), gunicorn on a free port of
127.0.0.1 waited for until it answers (:func:`gunicorn_start`, :func:`gunicorn_stop`), members
driven over keep-alive connections in timed slices (:func:`drive`: one thread per member;
:func:`drive_processes`: the threads spread over processes, so the load generator's GIL does
not cap a cheap endpoint), the CPU each slice cost the gunicorn processes and the benchmark
database's PostgreSQL backends, read from ``/proc`` (:class:`CpuMeter`), and the per-endpoint
totals over alternating rounds (:class:`Totals`). Figures are ratios between endpoints measured
in the same run: the machine is shared and its load moves the rates, not the ratios.

Logging goes to stderr; a benchmark's stdout ends with one JSON line, its figures."""

from __future__ import annotations

import http.client
import multiprocessing
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
WORKERS = int(os.environ.get("BENCH_WORKERS", str(2 * (os.cpu_count() or 1) + 1)))
TICKS = os.sysconf("SC_CLK_TCK")

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def log(*args) -> None:
    print(*args, file=sys.stderr, flush=True)


def admin_sql(sql: str) -> None:
    """Run ``sql`` on the server's ``postgres`` database (autocommit: CREATE/DROP DATABASE)."""
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(sql)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


#: The Redis of the benchmarks' cache (``BENCH_REDIS``): each run keys under its own prefix.
REDIS = os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379/13")
ACTIVITY_BUFFER = "insights:activity"  # insights.recording.BUFFER_KEY (no Django import here)


def bench_env(db_name: str, settings: str, **extra: str) -> dict[str, str]:
    """The environment of a benchmark's processes: production settings (DEBUG off, no HTTPS
    redirect), its own database, the shared cache on Redis as in production (``REDIS_URL``:
    throttles and the activity buffer pay their real round trips; keys under the run's own
    prefix, deleted by :func:`database_drop`), throttles out of the way, Celery eager;
    ``extra`` on top."""
    return {
        **os.environ,
        "DATABASE_URL": f"{PG}/{db_name}",
        "REDIS_URL": REDIS,
        "CACHE_KEY_PREFIX": db_name,
        "DJANGO_SETTINGS_MODULE": settings,
        "SECRET_KEY": "bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
        "BALLOT_KEY": "bench-only-ballot-key-0123456789-abcdefghijklmnopqrstuvwxyz",
        "DEBUG": "0",
        "SECURE_SSL_REDIRECT": "0",
        "ALLOWED_HOSTS": "127.0.0.1",
        "THROTTLE_WRITES": "100000000/min",
        "THROTTLE_AUTH": "100000000/min",
        "LOG_LEVEL": "WARNING",
        "CELERY_BROKER_URL": "",
        "PYTHONPATH": str(ROOT),
        **extra,
    }


def task_queue_env(name: str) -> dict[str, str]:
    """The environment of a benchmark whose requests queue Celery tasks as production does:
    published to Redis (``BENCH_BROKER``, default ``redis://127.0.0.1:6379/4``), to a queue of
    this run (``BENCH_QUEUE``, which its settings make the default queue) that no worker
    consumes; :func:`task_queue_length` reads it, :func:`task_queue_drop` deletes it."""
    return {
        "CELERY_BROKER_URL": os.environ.get("BENCH_BROKER", "redis://127.0.0.1:6379/4"),
        "BENCH_QUEUE": f"bench-{name}-{os.getpid()}",
    }


def _task_queue(env: dict[str, str], operation: str) -> int | None:
    try:
        import redis

        store = redis.Redis.from_url(env["CELERY_BROKER_URL"])
        return getattr(store, operation)(env["BENCH_QUEUE"])
    except Exception as exc:  # noqa: BLE001 (report, never hide the figures)
        log(f"could not {operation} the queue {env['BENCH_QUEUE']}: {exc}")
        return None


def task_queue_length(env: dict[str, str]) -> int | None:
    """How many tasks wait in the run's queue (see :func:`task_queue_env`)."""
    return _task_queue(env, "llen")


def task_queue_drop(env: dict[str, str]) -> None:
    """Delete the run's queue (the tasks nobody consumed)."""
    _task_queue(env, "delete")


def database_create(db_name: str, env: dict[str, str]) -> None:
    """A fresh database ``db_name``, migrated (``manage.py migrate`` with ``env``)."""
    admin_sql(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
    admin_sql(f'CREATE DATABASE "{db_name}"')
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True
    )


def database_drop(db_name: str) -> None:
    """Drop the run's database and its cache keys (and the activity buffer its requests
    filled: no flush job runs in a benchmark)."""
    try:
        admin_sql(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
    except Exception as exc:  # report, never hide the figures
        log(f"could not drop {db_name}: {exc}")
    try:
        import redis

        store = redis.Redis.from_url(REDIS)
        for key in [*store.scan_iter(f"{db_name}:*"), ACTIVITY_BUFFER]:
            store.delete(key)
    except Exception as exc:  # noqa: BLE001 (report, never hide the figures)
        log(f"could not delete the cache keys of {db_name}: {exc}")


def django_setup(env: dict[str, str]) -> None:
    """Django in the benchmark's own process (seeding, checks), on the benchmark's database."""
    os.environ.update(env)
    import django

    django.setup()


# --- gunicorn ---------------------------------------------------------------------------------
def gunicorn_start(
    env: dict[str, str],
    *,
    workers: int = WORKERS,
    threads: int = 2,
    worker_class: str = "gthread",
    backlog: int = 2048,
    timeout: float | None = None,
) -> tuple[subprocess.Popen, str]:
    """gunicorn serving ``community.wsgi`` on a free port, started and answering
    ``GET /api/v1/me`` (any status); returns (process, base URL)."""
    port = free_port()
    proc = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("gunicorn")),
            "community.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--worker-class",
            worker_class,
            "--threads",
            str(threads),
            "--keep-alive",
            "30",
            "--backlog",
            str(backlog),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    limit = timeout or float(os.environ.get("BENCH_START_TIMEOUT", "300"))
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {proc.returncode}")
        try:
            # A worker's first answer can take seconds on a loaded machine: wait for it
            # rather than sending request after request.
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            conn.request("GET", "/api/v1/me")
            conn.getresponse().read()
            conn.close()
            return proc, f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError(f"gunicorn did not answer within {limit:.0f} s")


def gunicorn_stop(proc: subprocess.Popen | None) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


# --- CPU accounting (/proc) -------------------------------------------------------------------
def cpu_seconds(pid: int) -> float | None:
    """utime + stime of a process in seconds (None when it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / TICKS  # fields 14 and 15 of proc_pid_stat(5)


def run_ns(pid: int) -> int | None:
    """Nanoseconds a process has run on a CPU so far (``/proc/<pid>/schedstat``, exact, where
    :func:`cpu_seconds` counts clock ticks), None when it is gone: for the in-process
    benchmarks, which read a PostgreSQL backend around a few hundred microseconds of work."""
    try:
        with open(f"/proc/{pid}/schedstat") as f:
            return int(f.read().split()[0])
    except OSError:
        return None


def children(ppid: int) -> list[int]:
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == ppid:
                        pids.append(int(entry))
            except (OSError, IndexError, ValueError):
                continue
    return pids


class CpuMeter:
    """CPU seconds used by the gunicorn master and its workers (``server``) and by the
    PostgreSQL backends connected to the benchmark's database (``pg``; the meter's own
    connection goes to the ``postgres`` database, so it is not counted). A process that appears
    between two samples counts from zero; one that exits is not counted."""

    def __init__(self, master: int, db_name: str):
        import psycopg

        self.master = master
        self.db_name = db_name
        self.conn = psycopg.connect(f"{PG}/postgres", autocommit=True)

    def _pg_pids(self) -> list[int]:
        rows = self.conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s", [self.db_name]
        ).fetchall()
        return [pid for (pid,) in rows]

    def sample(self) -> dict[str, dict[int, float]]:
        server = [self.master, *children(self.master)]
        return {
            part: {pid: t for pid in pids if (t := cpu_seconds(pid)) is not None}
            for part, pids in (("server", server), ("pg", self._pg_pids()))
        }

    @staticmethod
    def delta(before: dict, after: dict) -> dict[str, float]:
        return {
            part: sum(t - before[part].get(pid, 0.0) for pid, t in after[part].items())
            for part in ("server", "pg")
        }

    def close(self) -> None:
        self.conn.close()


# --- load ----------------------------------------------------------------------------------------
@dataclass
class Slice:
    """One timed slice of one endpoint: successes, their latencies (ms), errors, the measured
    seconds and the CPU seconds (``server``, ``pg``) spent meanwhile."""

    ok: int
    latencies: list[float]
    errors: int
    seconds: float
    cpu: dict[str, float]

    @property
    def rps(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0


def drive(
    base: str,
    tokens: list[str],
    request: Callable,
    seconds: float,
    meter: CpuMeter | None = None,
    *,
    warm: Callable | None = None,
    timeout: float = 60,
) -> Slice:
    """Each client thread (one member, one keep-alive ``httpx`` connection) sends
    ``request(client, i, n)`` (n = 1, 2, ...) until the time is up. The clock starts when every
    client has warmed its connection (``warm(client, i)``, by default ``request(client, i, 0)``):
    under load the warm-up alone can outlast a slice, so the barrier's action sets the deadline
    as it releases everyone. A status >= 400 counts as an error."""
    import httpx

    latencies: list[list[float]] = [[] for _ in tokens]
    errors = [0] * len(tokens)
    deadline = [0.0]
    start = threading.Barrier(
        len(tokens) + 1, action=lambda: deadline.__setitem__(0, time.monotonic() + seconds)
    )

    def run(i: int) -> None:
        with httpx.Client(
            base_url=base, headers={"Authorization": f"Bearer {tokens[i]}"}, timeout=timeout
        ) as client:
            # A client that dies must still reach the barrier, or the slice never starts: a
            # request that fails at the transport (a timeout on a loaded machine) is an error.
            try:
                if warm is None:
                    request(client, i, 0)
                else:
                    warm(client, i)
            except httpx.HTTPError:
                pass
            start.wait()
            n = 1
            while time.monotonic() < deadline[0]:
                t0 = time.perf_counter()
                try:
                    status = request(client, i, n).status_code
                except httpx.HTTPError:
                    status = 0
                if status >= 400 or status == 0:
                    errors[i] += 1
                else:
                    latencies[i].append((time.perf_counter() - t0) * 1000)
                n += 1

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(len(tokens))]
    for thread in threads:
        thread.start()
    start.wait()
    before = meter.sample() if meter else None
    t0 = deadline[0] - seconds
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - t0
    cpu = meter.delta(before, meter.sample()) if meter else {"server": 0.0, "pg": 0.0}
    flat = [x for per in latencies for x in per]
    return Slice(len(flat), flat, sum(errors), elapsed, cpu)


def _drive_process(args) -> tuple[int, int, list[float]]:
    port, method, path, tokens, bodies, threads, duration, expect, start_at = args
    ok = errors = 0
    latencies: list[float] = []
    lock = threading.Lock()
    time.sleep(max(0.0, start_at - time.time()))
    stop_at = time.monotonic() + duration

    def worker(index: int) -> None:
        nonlocal ok, errors
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        token = tokens[index % len(tokens)]
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        n = 0
        local_ok = local_err = 0
        local_lat = []
        while time.monotonic() < stop_at:
            body = bodies[(index + n) % len(bodies)] if bodies else None
            started = time.perf_counter()
            try:
                conn.request(method, path, body=body, headers=headers)
                response = conn.getresponse()
                response.read()
                status = response.status
            except OSError:
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                status = 0
            if status == expect:
                local_ok += 1
                local_lat.append((time.perf_counter() - started) * 1000)
            else:
                local_err += 1
            n += 1
        with lock:
            ok += local_ok
            errors += local_err
            latencies.extend(local_lat)

    pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return ok, errors, latencies


def drive_processes(
    base: str,
    tokens: list[str],
    method: str,
    path: str,
    bodies: list[str] | None,
    expect: int,
    seconds: float,
    meter: CpuMeter | None = None,
    *,
    processes: int = 4,
) -> Slice:
    """``len(tokens)`` clients (``http.client``, one keep-alive connection each) spread over
    ``processes`` spawned processes, each sending ``method path`` (JSON ``bodies`` in turn) for
    ``seconds``; a status other than ``expect`` counts as an error. All processes start their
    clock at one instant agreed after they are up, and the CPU is sampled around it."""
    port = int(base.rsplit(":", 1)[1])
    with multiprocessing.get_context("spawn").Pool(processes) as pool:
        pool.map(time.sleep, [0] * processes)  # the processes are up (spawned, imported)
        start_at = time.time() + 0.2
        jobs = [
            (
                port,
                method,
                path,
                tokens[i::processes],
                bodies,
                len(tokens[i::processes]),
                seconds,
                expect,
                start_at,
            )
            for i in range(processes)
        ]
        pending = pool.map_async(_drive_process, jobs)
        time.sleep(max(0.0, start_at - time.time()))
        before = meter.sample() if meter else None
        results = pending.get()
        cpu = meter.delta(before, meter.sample()) if meter else {"server": 0.0, "pg": 0.0}
    latencies = [x for r in results for x in r[2]]
    return Slice(sum(r[0] for r in results), latencies, sum(r[1] for r in results), seconds, cpu)


@dataclass
class Totals:
    """One endpoint over all its alternating slices: ``rps`` is all successes over all
    measured seconds; CPU per request over all requests answered (errors included)."""

    slices: list[Slice] = field(default_factory=list)

    def add(self, piece: Slice) -> None:
        self.slices.append(piece)

    @property
    def ok(self) -> int:
        return sum(s.ok for s in self.slices)

    @property
    def errors(self) -> int:
        return sum(s.errors for s in self.slices)

    @property
    def rps(self) -> float:
        seconds = sum(s.seconds for s in self.slices)
        return self.ok / seconds if seconds else 0.0

    @property
    def latencies(self) -> list[float]:
        return [x for s in self.slices for x in s.latencies]

    def cpu_ms(self, part: str) -> float:
        answered = max(1, self.ok + self.errors)
        return round(1000 * sum(s.cpu.get(part, 0.0) for s in self.slices) / answered, 2)

    def line(self, name: str) -> str:
        lat = self.latencies
        return (
            f"{name}: {self.rps:.1f} req/s, p50 {p(lat, 0.5):.1f} ms, p99 {p(lat, 0.99):.1f} ms, "
            f"errors {self.errors}, CPU per request: server {self.cpu_ms('server')} ms, "
            f"PostgreSQL {self.cpu_ms('pg')} ms"
        )


def rounds(phases: dict[str, Callable[[], Slice]], count: int) -> dict[str, Totals]:
    """Run every phase ``count`` times, alternating (a, b, c, a, b, c, ...), so load from
    elsewhere on the machine hits every figure alike; each phase is a callable returning one
    slice."""
    totals = {name: Totals() for name in phases}
    for _ in range(count):
        for name, run in phases.items():
            totals[name].add(run())
    return totals


def ratio(a: float, b: float) -> float | None:
    return round(a / b, 3) if b else None


def p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def median_latency(base: str, token: str, path: str, samples: int = 60) -> float:
    """Median milliseconds of ``GET path`` by one member, alone, after five warm-up calls."""
    import httpx

    with httpx.Client(
        base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=60
    ) as client:
        for _ in range(5):
            assert client.get(path).status_code == 200
        times = []
        for _ in range(samples):
            t0 = time.perf_counter()
            response = client.get(path)
            times.append((time.perf_counter() - t0) * 1000)
            assert response.status_code == 200, response.text
    return round(statistics.median(times), 2)


class Mixer:
    """What a Celery worker does with the mix tasks the requests queue, in a thread of the
    benchmark's process: ``mix()`` (a mixing service, returning how many entries it mixed),
    then a wait of ``every`` seconds (the product's delay between a batch and its mix, or 50 ms
    for a mix queued at once), while the thread runs, so the mixes' row locks compete with
    the requests as in production. Its CPU is not in the server's figures (a worker's would
    not be either), but it is measured: ``python_s``, this thread's CPU (``time.thread_time``)
    in ``mix()``, and ``postgres_s``, the CPU its PostgreSQL backend spent meanwhile
    (``/proc/<pid>/schedstat``; that backend is one of the benchmark database's, so the
    ``postgres`` figure of the phase includes it): :meth:`cost_per_mixed` gives both per mixed
    entry. Use as a context manager around the slices that queue mixes."""

    def __init__(self, mix: Callable[[], int], *, what: str, every: float = 0.05):
        self.mix = mix
        self.what = what
        self.every = every
        self.stop = threading.Event()
        self.thread: threading.Thread | None = None
        self.mixes = 0
        self.mixed = 0
        self.python_s = 0.0
        self.postgres_s = 0.0

    def _run(self) -> None:
        from django.db import connection

        try:
            while not self.stop.is_set():
                connection.ensure_connection()
                backend = connection.connection.info.backend_pid
                pg, py = run_ns(backend), time.thread_time()
                n = self.mix()
                self.python_s += time.thread_time() - py
                if pg is not None and (pg_after := run_ns(backend)) is not None:
                    self.postgres_s += (pg_after - pg) / 1e9
                if n:
                    self.mixes += 1
                    self.mixed += n
                self.stop.wait(self.every)
        finally:
            connection.close()

    def cost_per_mixed(self) -> dict[str, float | None]:
        """Milliseconds of CPU per mixed entry: the mixer's Python and its PostgreSQL backend."""
        if not self.mixed:
            return {"python": None, "postgres": None}
        return {
            "python": round(self.python_s / self.mixed * 1000, 3),
            "postgres": round(self.postgres_s / self.mixed * 1000, 3),
        }

    def __enter__(self):
        self.stop.clear()
        self.thread = threading.Thread(target=self._run, name=f"mixer: {self.what}")
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()
