"""Throttles fail open when the shared cache is down: the request is served and the outage
logged (the fault test in tests/faults/ kills a real Redis under load)."""

from __future__ import annotations

import logging
import socket

import pytest

pytestmark = pytest.mark.django_db


@pytest.fixture
def unreachable_redis_cache(settings):
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{port}/0",
        }
    }


def test_write_is_served_and_logged_when_the_cache_is_down(member, unreachable_redis_cache, caplog):
    _, client = member
    with caplog.at_level(logging.WARNING, logger="community.throttling"):
        response = client.patch(
            "/api/v1/me", {"avatar_url": "https://example.com/a.png"}, format="json"
        )
    assert response.status_code == 200, response.content
    assert "throttle writes not counted: cache unavailable" in caplog.text
