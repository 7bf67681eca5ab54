"""Throttles fail open when the shared cache is down: the request is served and the outage
logged (the fault test in tests/faults/ kills a real Redis under load)."""

from __future__ import annotations

import logging
import os
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


@pytest.fixture
def redis_cache(settings):
    """The default cache on the tests' real Redis, under a key prefix of this test, with a
    write rate of 3 per minute."""
    import redis
    from rest_framework.settings import api_settings
    from rest_framework.throttling import SimpleRateThrottle

    from tests.conftest import redis_test_url

    prefix = f"throttle-test-{os.getpid()}"
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": redis_test_url(),
            "KEY_PREFIX": prefix,
        }
    }
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"auth": "3/min", "writes": "3/min"},
    }
    previous = SimpleRateThrottle.THROTTLE_RATES  # read once at import: restore it after
    SimpleRateThrottle.THROTTLE_RATES = api_settings.DEFAULT_THROTTLE_RATES
    store = redis.Redis.from_url(redis_test_url())
    yield store, prefix
    SimpleRateThrottle.THROTTLE_RATES = previous
    for key in store.scan_iter(f"{prefix}:*"):
        store.delete(key)


def _patch_me(client):
    return client.patch("/api/v1/me", {"avatar_url": "https://example.com/a.png"}, format="json")


def _evalsha_calls(store) -> int:
    return store.info("commandstats").get("cmdstat_evalsha", {}).get("calls", 0)


def test_redis_throttle_refuses_the_fourth_write_in_one_round_trip(member, redis_cache):
    store, prefix = redis_cache
    membership, client = member
    before = _evalsha_calls(store)
    codes = [_patch_me(client).status_code for _ in range(3)]
    refused = _patch_me(client)
    assert codes == [200, 200, 200]
    assert refused.status_code == 429, refused.content
    assert refused.json()["errors"][0]["code"] == "throttled"
    assert 0 < int(refused["Retry-After"]) <= 60
    # One script call per write (DRF's own history through the cache was a GET and a SET of
    # a pickled list each); the history is a sorted set that expires with the window.
    assert _evalsha_calls(store) - before == 4
    (key,) = store.keys(f"{prefix}:*throttle_writes_{membership.user.pk}")
    assert store.type(key) == b"zset"
    assert store.zcard(key) == 3  # the refused write is not recorded
    assert 0 < store.pttl(key) <= 60_000


def test_redis_throttle_counts_each_user_apart(make_member, redis_cache):
    _, first = make_member()
    _, second = make_member()
    assert [_patch_me(first).status_code for _ in range(4)] == [200, 200, 200, 429]
    assert _patch_me(second).status_code == 200
