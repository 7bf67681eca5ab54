from events.models import RegistrationStatus
from tests.events.conftest import line, seats_consistent, sign_up


def test_smoke(make_event, make_member):
    event = make_event(capacity=3, max_guests=2)
    a, _ = make_member()
    b, _ = make_member()
    c, _ = make_member()
    r = sign_up(a, event, guests=1)
    assert r.status == RegistrationStatus.CONFIRMED
    r = sign_up(b, event, guests=1)
    assert r.status == RegistrationStatus.WAITLISTED
    r = sign_up(c, event)
    assert r.status == RegistrationStatus.WAITLISTED
    assert line(event) == [b.user_id, c.user_id]
    assert seats_consistent(event) == (2, 2)
