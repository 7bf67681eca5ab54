"""Process-wide Redis clients for the hot paths that talk to Redis directly (the throttles'
counter, the activity buffer): one client per URL, built once. Django's cache backend builds a
new ``redis.Redis`` object on every call, which costs more CPU than the round trip itself;
short socket timeouts, because a slow Redis must not hold a request (callers fail open)."""

from __future__ import annotations

from functools import cache

#: Seconds a hot-path Redis call may take before its caller gives up on it.
TIMEOUT = 0.25


@cache
def redis_client(url: str):
    """The client of ``url`` (connection pool included), shared by the whole process."""
    import redis

    return redis.Redis.from_url(url, socket_timeout=TIMEOUT, socket_connect_timeout=TIMEOUT)
