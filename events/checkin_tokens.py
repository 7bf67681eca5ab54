"""Check-in codes: what a QR code carries, signed so only the server can make one.

* A **ticket** belongs to one registration: ``t.<registration id>.<signature>``. The
  mini-program shows it as a QR code, the organizer scans it with ``wx.scanCode`` and posts it.
  Whether it still admits anyone is decided by the registration's state at the scan (a
  cancelled, rejected or waitlisted registration is refused), so a ticket needs no expiry
  and revoking a registration revokes its ticket.
* An **event code** is one per event: ``e.<event id>.<signature>``. The organizer shows it at
  the door; members scan it to check themselves in, only inside the event's check-in window
  (checked by the service at the scan) and only with their own confirmed registration.

Signatures are Django's ``Signer`` (HMAC-SHA256 under ``SECRET_KEY``, one salt per kind), so
a code cannot be made from an id, and a ticket cannot pass for an event code or the other way
round. Codes are about 60 characters: a QR code of that size scans well off a phone screen.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core import signing

_TICKET_SALT = "events.checkin.ticket"
_EVENT_SALT = "events.checkin.event"
_SEP = "."
MAX_CODE_LENGTH = 200


@dataclass(frozen=True)
class Ticket:
    registration_id: str


@dataclass(frozen=True)
class EventCode:
    event_id: str


def _signer(salt: str) -> signing.Signer:
    return signing.Signer(salt=salt, sep=_SEP)


def ticket_code(*, registration_id: str) -> str:
    """The QR text of a registration's ticket."""
    return "t" + _SEP + _signer(_TICKET_SALT).sign(registration_id)


def event_code(*, event_id: str) -> str:
    """The QR text of an event's self check-in code."""
    return "e" + _SEP + _signer(_EVENT_SALT).sign(event_id)


def parse_code(code: str) -> Ticket | EventCode | None:
    """What ``code`` is, or None when it is not a code this server signed (a random QR code,
    a tampered one, one of another deployment)."""
    if not isinstance(code, str) or len(code) > MAX_CODE_LENGTH:
        return None
    kind, _sep, rest = code.strip().partition(_SEP)
    try:
        if kind == "t":
            return Ticket(_signer(_TICKET_SALT).unsign(rest))
        if kind == "e":
            return EventCode(_signer(_EVENT_SALT).unsign(rest))
    except signing.BadSignature:
        return None
    return None
