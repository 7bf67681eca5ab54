"""Health endpoints for the load balancer (community/health.py): liveness checks nothing,
readiness checks the database, the cache and the broker."""

from __future__ import annotations

import socket
from contextlib import contextmanager

import pytest

from community.celery import app


def dead_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def rabbitmq_up() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 5672), timeout=1).close()
    except OSError:
        return False
    return True


@contextmanager
def broker(url: str):
    """Celery with a real broker at ``url`` for the block (the test run is eager)."""
    saved = app.conf.task_always_eager, app.conf.broker_url
    app.conf.task_always_eager, app.conf.broker_url = False, url
    try:
        yield
    finally:
        app.conf.task_always_eager, app.conf.broker_url = saved


def test_liveness_answers_without_touching_any_dependency(client):
    # No database fixture: pytest-django refuses any query, so a check that queries fails.
    with broker(f"amqp://guest:guest@127.0.0.1:{dead_port()}//"):
        response = client.get("/health/live", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    assert response.json() == {}


def test_readiness_checks_database_cache_and_broker(db, client):
    response = client.get("/health/ready", HTTP_ACCEPT="application/json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body.values()) == {"OK"}
    assert {key.split("(")[0] for key in body} == {"Database", "Cache", "Broker"}


@pytest.mark.skipif(not rabbitmq_up(), reason="needs RabbitMQ on 127.0.0.1:5672")
def test_readiness_reaches_a_real_broker(db, client):
    with broker("amqp://guest:guest@127.0.0.1:5672//"):
        response = client.get("/health/ready", HTTP_ACCEPT="application/json")
    assert response.status_code == 200, response.content


def test_readiness_fails_when_the_broker_is_unreachable(db, client):
    with broker(f"amqp://guest:guest@127.0.0.1:{dead_port()}//"):
        response = client.get("/health/ready", HTTP_ACCEPT="application/json")
    assert response.status_code == 500
    body = response.json()
    assert body["Broker()"] == "Unavailable: broker unreachable"
    assert body["Database(alias='default')"] == "OK"
