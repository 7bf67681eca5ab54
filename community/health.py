"""Health endpoints for the load balancer (django-health-check's ``HealthCheckView``).

* ``/health/live``: the process answers HTTP; checks nothing else, so a database outage does not
  make the balancer restart every app node at once.
* ``/health/ready``: the node can serve: the primary database answers ``SELECT 1``, the cache
  (Redis) stores and reads a key, and the Celery broker accepts a connection. A node that is
  not ready answers 500 and the balancer sends it no traffic until it is. The read replica is
  not part of readiness: lagging reads fall back to the primary (``community/db_router.py``).
"""

from __future__ import annotations

import dataclasses
import datetime

from health_check.base import HealthCheck
from health_check.checks import Cache, Database
from health_check.exceptions import ServiceUnavailable
from health_check.views import HealthCheckView


@dataclasses.dataclass
class Broker(HealthCheck):
    """The Celery broker (RabbitMQ or Redis) accepts a connection (kombu, as Celery uses it).
    In eager mode (no broker configured) there is nothing to reach."""

    timeout: datetime.timedelta = dataclasses.field(
        default=datetime.timedelta(seconds=3), repr=False
    )

    def run(self) -> None:
        from community.celery import app

        if app.conf.task_always_eager:
            return
        try:
            with app.connection_for_write() as connection:
                connection.ensure_connection(max_retries=1, timeout=self.timeout.total_seconds())
        except Exception as exc:  # kombu raises the transport's own errors
            raise ServiceUnavailable("broker unreachable") from exc


class LiveView(HealthCheckView):
    """Liveness: no dependency is checked."""

    checks = ()


class ReadyView(HealthCheckView):
    """Readiness: database, cache and broker."""

    checks = (Database, Cache, Broker)
