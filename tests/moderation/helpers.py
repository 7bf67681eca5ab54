"""Helpers of the moderation tests: open cases about a member, decide them over HTTP."""

from __future__ import annotations

from community.ids import new_public_id
from moderation.models import Case


def open_case(community, subject, *, target_kind: str = "poll") -> Case:
    """An open case about content of ``subject`` (a membership); each has its own target."""
    target_id = subject.pk if target_kind == "member" else new_public_id()
    return Case.objects.create(
        community=community, target_kind=target_kind, target_id=target_id, subject=subject.user
    )


def decide(client, case_id, body, status=200):
    response = client.post(f"/api/v1/moderation-cases/{case_id}/decision", body, format="json")
    assert response.status_code == status, response.content
    return response.json()
