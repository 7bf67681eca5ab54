"""Check-in codes: what a QR code carries.

* A **ticket** belongs to one registration: ``t.<registration id>.<signature>``. The
  mini-program shows it as a QR code, the organizer scans it with ``wx.scanCode`` and posts
  it. The signature is an HMAC-SHA256 under ``SECRET_KEY`` and the two random secrets of the
  event and the registration (``Event.checkin_secret``, ``Registration.checkin_secret``): a
  ticket cannot be made from an id, rotating the registration's secret revokes its old
  screenshots, rotating the event's revokes every ticket of the event. Whether a valid ticket
  admits anyone is decided by the registration's state at the scan (cancelled, rejected or
  waitlisted registrations are refused), so revoking a registration revokes its ticket.
* An **event code** is one per event: ``e.<event id>.<Event.self_checkin_code>``. The
  organizer shows it at the door; members scan it to check themselves in, only inside the
  event's self check-in window and only with their own confirmed registration.

About 60 characters each: a QR code of that size scans well off a phone screen.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

from django.utils.crypto import constant_time_compare, salted_hmac

_TICKET_SALT = "events.checkin.ticket"
_SEP = "."
MAX_CODE_LENGTH = 200


@dataclass(frozen=True)
class Ticket:
    """A scanned ticket, not yet verified (:func:`ticket_valid` needs the secrets)."""

    registration_id: str
    signature: str


@dataclass(frozen=True)
class EventCode:
    """A scanned event code, not yet compared with the event's."""

    event_id: str
    code: str


def _signature(registration_id: str, *, event_secret: str, registration_secret: str) -> str:
    mac = salted_hmac(
        _TICKET_SALT + _SEP + event_secret + _SEP + registration_secret,
        registration_id,
        algorithm="sha256",
    ).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


def ticket_code(*, registration_id: str, event_secret: str, registration_secret: str) -> str:
    """The QR text of a registration's ticket."""
    signature = _signature(
        registration_id, event_secret=event_secret, registration_secret=registration_secret
    )
    return _SEP.join(("t", registration_id, signature))


def ticket_valid(ticket: Ticket, *, event_secret: str, registration_secret: str) -> bool:
    """The ticket was signed for this registration with the current secrets."""
    expected = _signature(
        ticket.registration_id, event_secret=event_secret, registration_secret=registration_secret
    )
    return constant_time_compare(expected, ticket.signature)


def event_code(*, event_id: str, self_checkin_code: str) -> str:
    """The QR text of an event's self check-in code."""
    return _SEP.join(("e", event_id, self_checkin_code))


def event_code_valid(code: EventCode, *, self_checkin_code: str) -> bool:
    """The scanned code is the event's current one."""
    return bool(self_checkin_code) and constant_time_compare(code.code, self_checkin_code)


def parse_code(code: str) -> Ticket | EventCode | None:
    """What ``code`` looks like (a ticket or an event code), or None for any other text (a
    random QR code, a URL). Nothing is verified here: the caller loads the row the code names
    and checks it with :func:`ticket_valid` / :func:`event_code_valid`."""
    if not isinstance(code, str) or len(code) > MAX_CODE_LENGTH:
        return None
    parts = code.strip().split(_SEP)
    if len(parts) != 3 or not all(parts):
        return None
    kind, object_id, secret = parts
    if kind == "t":
        return Ticket(object_id, secret)
    if kind == "e":
        return EventCode(object_id, secret)
    return None
