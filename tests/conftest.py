"""Shared fixtures: factories, API clients signed in as a given member."""

from __future__ import annotations

import os
import subprocess
import sys
import time

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
def _redis_url() -> str:
    return os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def _drop_celery_connections(celery_app) -> None:
    """Forget pooled broker connections: even eager calls open a producer pool on the broker
    configured then (none → amqp://localhost), which later sends would silently reuse."""
    from kombu import pools

    pools.reset()  # kombu's process-wide connection and producer pools
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@pytest.fixture
def celery_worker_process(transactional_db):
    """Start a real ``celery worker`` (solo pool) on Redis against the test database and switch
    this process's Celery app from eager mode to that broker, so product code enqueues tasks
    exactly as in production. Needs PostgreSQL (the worker is another process) and Redis."""
    import redis
    from django.db import connection

    from community.celery import app as celery_app

    db = connection.settings_dict
    if db["ENGINE"] != "django.db.backends.postgresql":
        pytest.skip("the real-worker test needs PostgreSQL (set DATABASE_URL)")
    broker = _redis_url()
    try:
        redis.Redis.from_url(broker).flushdb()
    except redis.exceptions.ConnectionError:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"Redis is not reachable at {broker}")

    database_url = f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": database_url,
        "DB_POOL": "0",
        "TEST_CELERY_BROKER_URL": broker,
        "WECHAT_API_BASE": settings.WECHAT_API_BASE,
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
    lines: list[str] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
        if "ready." in line:
            break
    else:
        proc.kill()
        pytest.fail("celery worker did not start:\n" + "".join(lines))
    if proc.poll() is not None:
        pytest.fail("celery worker exited:\n" + "".join(lines))

    old = (celery_app.conf.task_always_eager, celery_app.conf.broker_url)
    celery_app.conf.task_always_eager = False
    celery_app.conf.broker_url = broker
    _drop_celery_connections(celery_app)
    try:
        yield proc
    finally:
        celery_app.conf.task_always_eager, celery_app.conf.broker_url = old
        _drop_celery_connections(celery_app)
        proc.terminate()
        try:
            output, _ = proc.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            output, _ = proc.communicate()
        # Shown by pytest when the test failed.
        print("celery worker output:\n" + "".join(lines) + (output or ""))
