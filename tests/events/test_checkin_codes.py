"""Check-in codes (signing only; the rules at the scan are in test_checkin.py)."""

from __future__ import annotations

from django.test import override_settings

from events.checkin_tokens import (
    EventCode,
    Ticket,
    event_code,
    event_code_valid,
    parse_code,
    ticket_code,
    ticket_valid,
)

SECRETS = {"event_secret": "ev-secret", "registration_secret": "reg-secret"}


def test_ticket_round_trips_and_verifies_with_its_secrets():
    code = ticket_code(registration_id="Hk3mP9xQa2Zb", **SECRETS)
    ticket = parse_code(code)
    assert isinstance(ticket, Ticket) and ticket.registration_id == "Hk3mP9xQa2Zb"
    assert ticket_valid(ticket, **SECRETS)
    assert len(code) < 80


def test_a_ticket_cannot_be_made_from_an_id_or_moved_to_another_registration():
    code = ticket_code(registration_id="Hk3mP9xQa2Zb", **SECRETS)
    forged = parse_code("t.Hk3mP9xQa2Zb.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
    assert not ticket_valid(forged, **SECRETS)
    moved = parse_code(code.replace("Hk3mP9xQa2Zb", "Hk3mP9xQa2Zc"))
    assert not ticket_valid(moved, **SECRETS)


def test_rotating_either_secret_revokes_the_ticket():
    ticket = parse_code(ticket_code(registration_id="Hk3mP9xQa2Zb", **SECRETS))
    assert not ticket_valid(ticket, event_secret="rotated", registration_secret="reg-secret")
    assert not ticket_valid(ticket, event_secret="ev-secret", registration_secret="rotated")


def test_tickets_of_another_deployment_are_refused():
    ticket = parse_code(ticket_code(registration_id="Hk3mP9xQa2Zb", **SECRETS))
    with override_settings(SECRET_KEY="another-deployment-" + "k" * 40):
        assert not ticket_valid(ticket, **SECRETS)


def test_event_code_round_trips_and_compares_with_the_current_code():
    code = parse_code(event_code(event_id="Rt7uV2wXy3Cd", self_checkin_code="door-code"))
    assert code == EventCode("Rt7uV2wXy3Cd", "door-code")
    assert event_code_valid(code, self_checkin_code="door-code")
    assert not event_code_valid(code, self_checkin_code="new-code")


def test_other_qr_texts_are_not_codes():
    for text in ["https://example.com/x.y", "t.only-two", "x.a.b", "", "t..sig", "e" * 300]:
        assert parse_code(text) is None, text
