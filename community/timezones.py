"""A community's own time zone: the one place that turns stored UTC times into local ones.

Times are stored in UTC. Everything a member or a moderator reads -- API responses, reminder
texts, export files -- shows them in the time zone of the community they belong to (by default
``settings.TIME_ZONE``, Asia/Shanghai), never in the server's. API views serialize inside
``community_time(community)``; code that formats a time itself calls ``localize``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from community.errors import DomainError

if TYPE_CHECKING:
    from community.models import Community

# Not IANA zones, though the system's zoneinfo directory lists them.
_NOT_ZONES = frozenset({"localtime", "Factory"})


@lru_cache(maxsize=1)
def zone_names() -> frozenset[str]:
    """Every IANA zone name this machine knows (walking the zoneinfo tree takes ~0.3 s, so the
    answer is kept for the life of the process)."""
    return frozenset(available_timezones()) - _NOT_ZONES


def time_zone_clean(name: str) -> str:
    """``name`` if it is an IANA zone name (``America/New_York``), else a 400 that says so.
    Services call this before storing a community's zone, so a stored name always loads."""
    if not isinstance(name, str) or name.strip() not in zone_names():
        raise DomainError(
            _("Unknown time zone. Use an IANA name such as Asia/Shanghai."),
            code="invalid_time_zone",
            field="time_zone",
        )
    return name.strip()


def zone_named(name: str) -> ZoneInfo:
    """The zone called ``name``; the default zone for a name that does not load (a row written
    before names were validated must still render, not fail)."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(settings.TIME_ZONE)


def community_zone(community: Community) -> ZoneInfo:
    """The time zone ``community``'s members read times in."""
    return zone_named(community.time_zone)


def localize(value: datetime | None, community: Community) -> datetime | None:
    """``value`` (aware, as stored) as a local time of ``community``."""
    if value is None:
        return None
    return value.astimezone(community_zone(community))


@contextmanager
def community_time(community: Community) -> Iterator[ZoneInfo]:
    """Render (and parse naive input) in ``community``'s zone while the block runs: DRF's
    ``DateTimeField`` and Django's ``localtime`` use the active zone."""
    zone = community_zone(community)
    with timezone.override(zone):
        yield zone
