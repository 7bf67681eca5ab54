"""Throttles, counted in the shared cache so every worker process sees the same numbers.

When the cache is Redis (production), a throttle is one round trip: a short Lua script keeps
the request times of one key in a sorted set and, in the same call, drops those older than the
window, counts the rest and records this one (DRF's sliding-window history, which costs a
``GET`` and a ``SET`` of a pickled list through Django's cache, plus a new Redis client object
per call). Any other cache (the development and test default) takes DRF's own path.

When the cache (Redis) is unreachable the throttles fail open: the request is let through and
the outage is logged. A throttle protects the service; refusing every request (or answering
500) while Redis restarts would be the outage it is meant to prevent. They count again as soon
as the cache answers, without a restart.
"""

from __future__ import annotations

import logging
import os
from functools import cache

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from rest_framework.throttling import SimpleRateThrottle

from community.redis_clients import redis_client

logger = logging.getLogger(__name__)

#: KEYS[1] the throttle key; ARGV: now (s), window (s), allowed requests, this request's
#: member. Returns {1, ""} when counted, {0, oldest request time} when refused.
_SLIDING_WINDOW = """
local key = KEYS[1]
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
if redis.call('ZCARD', key) >= tonumber(ARGV[3]) then
  local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
  return {0, oldest[2]}
end
redis.call('ZADD', key, now, ARGV[4])
redis.call('PEXPIRE', key, math.ceil(window * 1000))
return {1, ''}
"""


@cache
def _script(url: str):
    return redis_client(url).register_script(_SLIDING_WINDOW)


def _redis_url() -> str | None:
    """The URL of the default cache when it is one Redis server, else None."""
    if not isinstance(caches["default"], RedisCache):
        return None
    location = settings.CACHES["default"].get("LOCATION")
    return location if isinstance(location, str) else None


class FailOpenRateThrottle(SimpleRateThrottle):
    """``SimpleRateThrottle`` counted in one Redis round trip, that lets the request through
    when the cache fails."""

    _oldest: float | None = None

    def allow_request(self, request, view) -> bool:
        try:
            url = _redis_url()
            if url is None:
                return super().allow_request(request, view)
            return self._allow_in_redis(url, request, view)
        except Exception as exc:  # the cache backend's own errors (redis.ConnectionError, ...)
            logger.warning(
                "throttle %s not counted: cache unavailable (%s: %s)",
                self.scope,
                type(exc).__name__,
                exc,
            )
            return True

    def _allow_in_redis(self, url: str, request, view) -> bool:
        if self.rate is None:
            return True
        key = self.get_cache_key(request, view)
        if key is None:
            return True
        self.key, self.now = key, self.timer()
        counted, oldest = _script(url)(
            keys=[caches["default"].make_and_validate_key(key)],
            args=[repr(self.now), self.duration, self.num_requests, os.urandom(8).hex()],
        )
        if counted:
            return True
        self._oldest = float(oldest)
        return self.throttle_failure()

    def wait(self) -> float | None:
        if self._oldest is None:
            return super().wait()
        return max(0.0, self.duration - (self.now - self._oldest))


class AuthThrottle(FailOpenRateThrottle):
    """Login attempts per client IP (rate ``auth``)."""

    scope = "auth"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class WriteThrottle(FailOpenRateThrottle):
    """Writes per signed-in user (rate ``writes``); reads are not throttled."""

    scope = "writes"

    def get_cache_key(self, request, view):
        if request.method in ("GET", "HEAD", "OPTIONS") or not request.user.is_authenticated:
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.user.pk}
