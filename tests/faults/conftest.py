"""Real processes for the fault tests: a private redis-server and the app under gunicorn, each
on a free 127.0.0.1 port, against the PostgreSQL test database. Nothing here touches a server
that other test runs share."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from django.db import connection

from tests.waiting import wait_for

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def app_database_url() -> str:
    db = connection.settings_dict
    user = db["USER"] or "postgres"
    return f"postgres://{user}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def needs_postgres(transactional_db) -> None:
    """The app runs in other processes: data must be committed, and the database shared."""
    if connection.vendor != "postgresql":
        pytest.skip("the fault tests need PostgreSQL (set DATABASE_URL)")


class RedisServer:
    """A redis-server of this test alone; ``kill()`` and ``start()`` again on the same port."""

    def __init__(self, port: int):
        self.port = port
        self.url = f"redis://127.0.0.1:{port}/0"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        import redis

        client = redis.Redis(host="127.0.0.1", port=self.port, socket_connect_timeout=0.5)

        def answers() -> bool:
            try:
                return bool(client.ping())
            except redis.RedisError:
                return False

        wait_for(answers, timeout=20, message=f"redis-server on port {self.port}")

    def kill(self) -> None:
        """SIGKILL: a crash, not a shutdown (and no data survives: nothing is saved)."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)


@pytest.fixture
def private_redis() -> Iterator[RedisServer]:
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    server = RedisServer(free_port())
    server.start()
    try:
        yield server
    finally:
        server.kill()


class LiveApp:
    """The app under gunicorn (production WSGI entry point) on a free port."""

    def __init__(self, proc: subprocess.Popen, base_url: str, log_path: Path):
        self.proc = proc
        self.base_url = base_url
        self.log_path = log_path

    @property
    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def pids(self) -> set[int]:
        """The gunicorn master and its workers (to find their database backends)."""
        out = subprocess.run(
            ["ps", "-o", "pid=", "--ppid", str(self.proc.pid)], capture_output=True, text=True
        ).stdout
        return {self.proc.pid, *(int(pid) for pid in out.split())}


@pytest.fixture
def live_app(needs_postgres, tmp_path) -> Iterator:
    """``live_app(workers=2, threads=4, **env)`` starts gunicorn on the test database with the
    test settings (``DEBUG=0``) plus ``env`` and returns a :class:`LiveApp`; stopped after the
    test."""
    apps: list[LiveApp] = []

    def start(*, workers: int = 2, threads: int = 4, **extra_env: str) -> LiveApp:
        port = free_port()
        log_path = tmp_path / f"gunicorn-{port}.log"
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.settings",
            "DATABASE_URL": app_database_url(),
            "DEBUG": "0",
            "ALLOWED_HOSTS": "127.0.0.1",
            "LOG_LEVEL": "WARNING",
            **extra_env,
        }
        with open(log_path, "w") as log:
            proc = subprocess.Popen(
                [
                    str(Path(sys.executable).with_name("gunicorn")),
                    "community.wsgi:application",
                    "--bind",
                    f"127.0.0.1:{port}",
                    "--workers",
                    str(workers),
                    "--worker-class",
                    "gthread",
                    "--threads",
                    str(threads),
                    "--graceful-timeout",
                    "5",
                    "--log-level",
                    "warning",
                ],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        app = LiveApp(proc, f"http://127.0.0.1:{port}", log_path)
        apps.append(app)

        def up() -> bool:
            if proc.poll() is not None:
                pytest.fail("gunicorn exited:\n" + app.log)
            try:
                return httpx.get(f"{app.base_url}/api/v1/me", timeout=2).status_code == 401
            except httpx.HTTPError:
                return False

        wait_for(up, timeout=60, message=lambda: "gunicorn answering\n" + app.log)
        return app

    try:
        yield start
    finally:
        for app in apps:
            app.proc.terminate()
            try:
                app.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                app.proc.kill()
                app.proc.wait()
            print(f"gunicorn {app.base_url} log:\n{app.log}")
