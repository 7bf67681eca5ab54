"""Parallel sign-ups on PostgreSQL: real threads, each with its own database connection.

What is proven: a rush for the last seats never oversells (the seat counter never passes the
capacity and always equals the seats the registrations hold); the waitlist is in the order
the refused members were refused; parallel cancellations promote exactly the first in line;
a member's parallel retries keep one registration. The control shows the race the guard
closes: the same rush through a read-then-write check oversells."""

from __future__ import annotations

import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, connections, transaction
from django.db.models import Sum
from django.utils import timezone

from events import services
from events.models import Registration, RegistrationStatus
from tests.conftest import client_for
from tests.events.conftest import line, seats_consistent, sign_up, statuses

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="concurrency tests need PostgreSQL (SQLite serialises every write)",
    ),
]

#: Parallel threads (each holds its own PostgreSQL connection; the server and its
#: max_connections are shared with other test runs).
MAX_PARALLEL = 16


def _in_threads(count: int, work):
    """Run ``work(i)`` for ``count`` requests in up to MAX_PARALLEL threads released together;
    return ``(result, started, finished)`` per request, in order (monotonic clock)."""
    gate = threading.Event()

    def run(i):
        try:
            gate.wait(timeout=30)
            started = time.monotonic()
            result = work(i)
            return result, started, time.monotonic()
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=min(count, MAX_PARALLEL)) as pool:
        futures = [pool.submit(run, i) for i in range(count)]
        gate.set()
        return [future.result() for future in futures]


def _put(client, event, body):
    return client.put(f"/api/v1/events/{event.pk}/registration", body, format="json")


def assert_line_follows_refusals(event, runs, members):
    """The waitlist order agrees with arrival: when X was refused (its request returned
    waitlisted) before Y's request even started, X is ahead of Y; places have no gaps."""
    seqs = dict(
        Registration.objects.filter(event=event, status=RegistrationStatus.WAITLISTED).values_list(
            "user_id", "waitlist_seq"
        )
    )
    assert sorted(seqs.values()) == list(range(1, len(seqs) + 1))  # no gaps, no duplicates
    refused = [
        (members[i].user_id, started, finished)
        for i, (resp, started, finished) in enumerate(runs)
        if resp.json()["state"] == "waitlisted"
    ]
    assert {user for user, _s, _f in refused} == set(seqs)
    for x, _xs, x_finished in refused:
        for y, y_started, _yf in refused:
            if x_finished < y_started:
                assert seqs[x] < seqs[y], (x, y)


def test_a_rush_for_the_last_seats_never_oversells_and_the_line_keeps_arrival_order(
    make_event, make_member
):
    capacity = 20
    event = make_event(capacity=capacity, max_guests=2)
    members = [make_member()[0] for _ in range(80)]
    clients = [client_for(m.user) for m in members]
    rng = random.Random(9)
    bodies = [
        {"guests": rng.choice([0, 0, 1, 2]), "accept_partial": rng.random() < 0.3} for _ in members
    ]

    runs = _in_threads(len(members), lambda i: _put(clients[i], event, bodies[i]))

    assert {resp.status_code for resp, _s, _f in runs} == {200}
    taken, held = seats_consistent(event)
    assert taken == held
    assert taken <= capacity
    confirmed = Registration.objects.filter(event=event, status=RegistrationStatus.CONFIRMED)
    assert confirmed.aggregate(s=Sum("seats"))["s"] == taken
    # Everyone who asked got an answer: seated or in line, nobody lost.
    assert Registration.objects.filter(event=event).count() == len(members)
    event.refresh_from_db()
    assert event.waitlist_count == len(line(event))
    assert_line_follows_refusals(event, runs, members)
    # Seats are left free only when the head of the line does not fit in them (FCFS: those
    # behind it wait too, as with pretix's waiting list).
    head = (
        Registration.objects.filter(event=event, status=RegistrationStatus.WAITLISTED)
        .order_by("waitlist_seq")
        .first()
    )
    if head is not None:
        assert capacity - taken < (1 if head.accept_partial else 1 + head.guests)


def test_control_the_same_rush_through_a_read_then_write_check_oversells(make_event, make_member):
    """What the guard prevents: each sign-up reads the seats taken, checks, then writes (the
    obvious code). Parallel requests all read the same free seats and all write."""
    capacity = 5
    event = make_event(capacity=capacity)
    members = [make_member()[0] for _ in range(30)]

    def naive_sign_up(i):
        with transaction.atomic():
            held = (
                Registration.objects.filter(
                    event=event, status=RegistrationStatus.CONFIRMED
                ).aggregate(s=Sum("seats"))["s"]
                or 0
            )
            time.sleep(0.05)  # the request's other work between the check and the write
            if held + 1 <= capacity:
                Registration.objects.create(
                    community_id=event.community_id,
                    event=event,
                    user_id=members[i].user_id,
                    status=RegistrationStatus.CONFIRMED,
                    seats=1,
                )
                return True
        return False

    _in_threads(len(members), naive_sign_up)
    oversold = (
        Registration.objects.filter(event=event, status=RegistrationStatus.CONFIRMED).aggregate(
            s=Sum("seats")
        )["s"]
        - capacity
    )
    assert oversold > 0


def test_parallel_cancellations_promote_exactly_the_first_in_line(make_event, make_member):
    capacity = 10
    event = make_event(capacity=capacity)
    seated = [make_member()[0] for _ in range(capacity)]
    waiting = [make_member()[0] for _ in range(15)]
    for m in seated + waiting:
        sign_up(m, event)
    assert line(event) == [m.user_id for m in waiting]
    newcomers = [make_member()[0] for _ in range(10)]
    leavers = seated[:6]

    def work(i):
        if i < len(leavers):
            return services.registration_cancel(actor=leavers[i], event_id=event.pk).status
        return sign_up(newcomers[i - len(leavers)], event).status

    runs = _in_threads(len(leavers) + len(newcomers), work)

    assert [r for r, _s, _f in runs[: len(leavers)]] == [RegistrationStatus.CANCELLED] * 6
    assert all(r == RegistrationStatus.WAITLISTED for r, _s, _f in runs[len(leavers) :])
    st = statuses(event)
    promoted = [m.user_id for m in waiting if st[m.user_id] == RegistrationStatus.CONFIRMED]
    assert promoted == [m.user_id for m in waiting[:6]]
    assert seats_consistent(event) == (capacity, capacity)
    remaining = line(event)
    assert remaining[:9] == [m.user_id for m in waiting[6:]]
    assert sorted(remaining[9:]) == sorted(m.user_id for m in newcomers)


def test_a_members_parallel_retries_keep_one_registration(make_event, member):
    event = make_event(capacity=5, max_guests=2)
    membership, _client = member
    clients = [client_for(membership.user) for _ in range(8)]
    runs = _in_threads(8, lambda i: _put(clients[i], event, {"guests": 2, "note": "同行"}))
    assert {resp.status_code for resp, _s, _f in runs} == {200}
    assert Registration.objects.filter(event=event).count() == 1
    assert seats_consistent(event) == (3, 3)


def test_offers_expiring_while_members_claim_never_double_seat(make_event, make_member):
    event = make_event(capacity=3, waitlist_offers=True, offer_hours=1)
    seated = [make_member()[0] for _ in range(3)]
    waiting = [make_member()[0] for _ in range(6)]
    for m in seated + waiting:
        sign_up(m, event)
    for m in seated:
        services.registration_cancel(actor=m, event_id=event.pk)
    offered = [m for m in waiting if statuses(event)[m.user_id] == RegistrationStatus.OFFERED]
    assert len(offered) == 3
    later = timezone.now()
    Registration.objects.filter(event=event, status=RegistrationStatus.OFFERED).update(
        offer_expires_at=later
    )

    def work(i):
        if i < 3:
            try:
                return sign_up(offered[i], event).status
            except Exception as exc:  # offer_expired
                return getattr(exc, "code", repr(exc))
        return services.events_offers_expire_due()

    _in_threads(6, work)
    assert seats_consistent(event)[0] == seats_consistent(event)[1] <= 3
    assert statuses(event)[waiting[3].user_id] == RegistrationStatus.OFFERED
