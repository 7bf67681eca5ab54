"""Every write of the events app: one keyword-only function per use case.

Lock order (always the same, so concurrent writes cannot deadlock): the ``Event`` row first,
then registrations in primary-key order; a first sign-up inserts its own (new, invisible)
registration and then moves the event's seat counter as its last statement. Seats are taken
only by the guarded ``UPDATE`` of ``events/seats.py``. Outbox rows go in the same
transaction; their sending is enqueued with ``transaction.on_commit``.
"""

from events.services.common import (
    EVENT_SEATS,
    NOTIFY_CANCELLED,
    NOTIFY_CHANGED,
    NOTIFY_CONFIRMED,
    NOTIFY_OFFER,
    NOTIFY_PROMOTED,
    NOTIFY_REMINDER,
    event_object_key,
    event_of,
    locked_event,
    may_manage,
    require_manage,
)
from events.services.events import (
    EDITABLE,
    event_cancel,
    event_create,
    event_remind,
    event_update,
    events_remind_due,
    organizer_add,
    organizer_remove,
)
from events.services.registrations import (
    registration_approve,
    registration_cancel,
    registration_put,
    registration_reject,
    registration_remove,
)
from events.services.waitlist import (
    event_offers_expire,
    event_offers_expire_on_read,
    events_offers_expire_due,
    expire_offers_locked,
    promote_locked,
)

__all__ = [
    "EDITABLE",
    "EVENT_SEATS",
    "NOTIFY_CANCELLED",
    "NOTIFY_CHANGED",
    "NOTIFY_CONFIRMED",
    "NOTIFY_OFFER",
    "NOTIFY_PROMOTED",
    "NOTIFY_REMINDER",
    "event_cancel",
    "event_create",
    "event_object_key",
    "event_of",
    "event_offers_expire",
    "event_offers_expire_on_read",
    "event_remind",
    "event_update",
    "events_offers_expire_due",
    "events_remind_due",
    "expire_offers_locked",
    "locked_event",
    "may_manage",
    "organizer_add",
    "organizer_remove",
    "promote_locked",
    "registration_approve",
    "registration_cancel",
    "registration_put",
    "registration_reject",
    "registration_remove",
    "require_manage",
]
