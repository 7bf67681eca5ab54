"""Throttles, counted in the shared cache so every worker process sees the same numbers.

When the cache (Redis) is unreachable the throttles fail open: the request is let through and
the outage is logged. A throttle protects the service; refusing every request (or answering
500) while Redis restarts would be the outage it is meant to prevent. They count again as soon
as the cache answers, without a restart.
"""

from __future__ import annotations

import logging

from rest_framework.throttling import SimpleRateThrottle

logger = logging.getLogger(__name__)


class FailOpenRateThrottle(SimpleRateThrottle):
    """``SimpleRateThrottle`` that lets the request through when the cache fails."""

    def allow_request(self, request, view) -> bool:
        try:
            return super().allow_request(request, view)
        except Exception as exc:  # the cache backend's own errors (redis.ConnectionError, ...)
            logger.warning(
                "throttle %s not counted: cache unavailable (%s: %s)",
                self.scope,
                type(exc).__name__,
                exc,
            )
            return True


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
