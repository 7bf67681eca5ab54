"""Check-in codes (signing only; the rules at the scan are in test_checkin.py)."""

from __future__ import annotations

from django.test import override_settings

from events.checkin_tokens import EventCode, Ticket, event_code, parse_code, ticket_code


def test_ticket_and_event_code_round_trip():
    assert parse_code(ticket_code(registration_id="Hk3mP9xQa2Zb")) == Ticket("Hk3mP9xQa2Zb")
    assert parse_code(event_code(event_id="Rt7uV2wXy3Cd")) == EventCode("Rt7uV2wXy3Cd")


def test_a_code_cannot_be_made_from_an_id_or_tampered_with():
    code = ticket_code(registration_id="Hk3mP9xQa2Zb")
    assert parse_code("t.Hk3mP9xQa2Zb") is None
    assert parse_code(code.replace("Hk3mP9xQa2Zb", "Hk3mP9xQa2Zc")) is None
    assert parse_code(code[:-1] + ("A" if code[-1] != "A" else "B")) is None
    assert parse_code("https://example.com/some-other-qr") is None
    assert parse_code("x" * 10_000) is None


def test_a_ticket_does_not_pass_for_an_event_code_nor_the_reverse():
    ticket = ticket_code(registration_id="Hk3mP9xQa2Zb")
    event = event_code(event_id="Hk3mP9xQa2Zb")
    assert parse_code("e" + ticket[1:]) is None
    assert parse_code("t" + event[1:]) is None


def test_codes_of_another_deployment_are_refused():
    code = ticket_code(registration_id="Hk3mP9xQa2Zb")
    with override_settings(SECRET_KEY="another-deployment-" + "k" * 40):
        assert parse_code(code) is None
