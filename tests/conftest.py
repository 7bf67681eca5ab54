"""Shared fixtures: factories, API clients signed in as a given member."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from community.models import Tier
from community.services.tokens import token_issue
from tests.factories import CommunityFactory, MembershipFactory, UserFactory
from tests.wechat_fake import wechat_server  # noqa: F401  (fixture shared by every package)


def client_for(user) -> APIClient:
    """An API client holding a real bearer token of ``user``."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_issue(user=user).raw}")
    return client


@pytest.fixture(scope="session")
def generated_openapi(tmp_path_factory) -> str:
    """The contract as ``manage.py spectacular --lang zh-hans --validate --fail-on-warn`` makes
    it from the code now (text), generated once per run for every test that reads it."""
    from django.core.management import call_command

    out = tmp_path_factory.mktemp("schema") / "openapi.yaml"
    call_command(
        "spectacular", "--lang", "zh-hans", "--file", str(out), "--validate", "--fail-on-warn"
    )
    return out.read_text()


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def community(db):
    return CommunityFactory()


@pytest.fixture
def make_member(db, community):
    """``make_member(tier="moderator", status="active", community=...)`` → (membership, client)."""

    def make(tier: str = Tier.MEMBER, status: str = "active", community=community, **kwargs):
        membership = MembershipFactory(community=community, tier=tier, status=status, **kwargs)
        return membership, client_for(membership.user)

    return make


@pytest.fixture
def member(make_member):
    return make_member()


@pytest.fixture
def outsider(db):
    """A signed-in user who belongs to no community."""
    user = UserFactory()
    return user, client_for(user)


# --- a real Celery worker on Redis ---------------------------------------------------------------
def redis_test_url() -> str:
    """The Redis database of this test process: ``TEST_REDIS_URL`` (default db 15). Under
    pytest-xdist worker ``gwN`` takes the database N below it (gw0 the one named, gw1 the one
    under it...), so parallel workers never flush or read each other's broker and keys."""
    url = urlsplit(os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15"))
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not worker.startswith("gw"):
        return url.geturl()
    db = int(url.path.strip("/") or 0) - int(worker[2:])
    if db < 0:
        raise RuntimeError(
            f"TEST_REDIS_URL {url.geturl()} leaves no Redis database for xdist worker {worker}"
        )
    return url._replace(path=f"/{db}").geturl()


def _drop_celery_connections(celery_app) -> None:
    """Forget pooled broker connections: even eager calls open a producer pool on the broker
    configured then (none → amqp://localhost), which later sends would silently reuse."""
    from kombu import pools

    pools.reset()  # kombu's process-wide connection and producer pools
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


class CeleryWorker:
    """A ``celery worker`` process and everything it printed (read by a thread, so a chatty
    worker never blocks on a full pipe)."""

    def __init__(self, proc: subprocess.Popen):
        self.proc = proc
        self.lines: list[str] = []
        self.ready = threading.Event()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.append(line)
            if "ready." in line:
                self.ready.set()
        self.ready.set()  # exited: stop waiting

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def kill(self) -> None:
        """SIGKILL: no shutdown, no acknowledgement, as when the machine loses the process."""
        self.proc.kill()
        self.proc.wait(timeout=15)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._reader.join(timeout=5)


@pytest.fixture
def celery_workers(transactional_db):
    """``start(**env)`` starts a real ``celery worker`` (solo pool) on Redis against the test
    database and returns a :class:`CeleryWorker`; this process's Celery app is switched from
    eager mode to that broker, so product code enqueues tasks exactly as in production. Extra
    keyword arguments become environment variables of the worker (e.g.
    ``TEST_WECHAT_TEMPLATES``). Every worker is stopped after the test. Needs PostgreSQL (the
    worker is another process) and Redis."""
    import redis
    from django.db import connection

    from community.celery import app as celery_app

    db = connection.settings_dict
    if connection.vendor != "postgresql":
        pytest.skip("the real-worker test needs PostgreSQL (set DATABASE_URL)")
    broker = redis_test_url()
    try:
        redis.Redis.from_url(broker).flushdb()
    except redis.exceptions.ConnectionError:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"Redis is not reachable at {broker}")

    database_url = f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    workers: list[CeleryWorker] = []

    def start(**extra_env: str) -> CeleryWorker:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.settings",
            "DATABASE_URL": database_url,
            "DB_POOL": "0",
            "TEST_CELERY_BROKER_URL": broker,
            # Read now: a ``wechat_server`` requested before this fixture is already pointed at.
            "WECHAT_API_BASE": settings.WECHAT_API_BASE,
            **extra_env,
        }
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "community",
                "worker",
                "--pool=solo",
                "--without-heartbeat",
                "--without-mingle",
                "--without-gossip",
                "-l",
                "info",
            ],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        worker = CeleryWorker(proc)
        workers.append(worker)
        if not worker.ready.wait(60) or proc.poll() is not None:
            proc.kill()
            pytest.fail("celery worker did not start:\n" + worker.output)
        return worker

    old = (celery_app.conf.task_always_eager, celery_app.conf.broker_url)
    celery_app.conf.task_always_eager = False
    celery_app.conf.broker_url = broker
    _drop_celery_connections(celery_app)
    try:
        yield start
    finally:
        celery_app.conf.task_always_eager, celery_app.conf.broker_url = old
        _drop_celery_connections(celery_app)
        for worker in workers:
            worker.stop()
            # Shown by pytest when the test failed.
            print(f"celery worker {worker.proc.pid} output:\n{worker.output}")


@pytest.fixture
def celery_worker_process(celery_workers) -> CeleryWorker:
    """One real ``celery worker`` on Redis (see ``celery_workers``)."""
    return celery_workers()
