"""Storage of the sealed server-side drafts of anonymous surveys (``SealedDraft``).

A draft of an anonymous survey is written by the member's own transaction, so it is sealed
(``community.sealing``: AES-GCM under a key derived from ``BALLOT_KEY`` and the survey id, the
row's ``lookup`` as associated data, padded to :data:`BUCKET` bytes): someone with every row
of the database but not the application's secrets reads neither the answers nor when they were
saved. The member finds it again on any device with their edit token (``draft_lookup``), and
submitting deletes it in the submitting transaction.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings

from community import sealing
from community.locking import lock_rows
from surveys.models import Response, ResponseStatus, SealedDraft, Survey, draft_lookup

#: Drafts are padded to a multiple of this many bytes (a typical draft fits in one bucket).
BUCKET = 1024


def draft_box(survey_id: str, lookup: str) -> str:
    """The sealing box (key derivation info and associated data) of one draft."""
    return f"survey-draft:{survey_id}:{lookup}"


def seal_draft(survey_id: str, lookup: str, payload: dict[str, Any]) -> bytes:
    return sealing.seal(
        secret=settings.BALLOT_KEY,
        box=draft_box(survey_id, lookup),
        payload=payload,
        bucket=BUCKET,
    )


def _scope(survey: Survey, token: str) -> dict[str, Any]:
    return {"community_id": survey.community_id, "survey": survey, "lookup": draft_lookup(token)}


def draft_exists(*, survey: Survey, token: str) -> bool:
    return SealedDraft.objects.filter(**_scope(survey, token)).exists()


def draft_put(
    *, survey: Survey, token: str, answers: dict[str, Any], version: int, saved_at: datetime
) -> Response:
    """Seal ``answers`` as the draft of ``token`` (replacing it), inside the member's
    transaction. Returns an unsaved ``Response`` showing the draft back to the member."""
    lookup = draft_lookup(token)
    payload = {"answers": answers, "version": version, "saved_at": saved_at.isoformat()}
    sealed = seal_draft(survey.pk, lookup, payload)
    row = lock_rows(SealedDraft.objects.filter(**_scope(survey, token))).first()
    if row is None:
        SealedDraft.objects.create(
            community_id=survey.community_id, survey=survey, lookup=lookup, sealed=sealed
        )
    else:
        SealedDraft.objects.filter(pk=row.pk).update(sealed=sealed)
    return _view(survey, payload)


def draft_open(*, survey: Survey, token: str | None) -> Response | None:
    """The draft of ``token``, opened, as an unsaved ``Response``; None without one."""
    if not token:
        return None
    row = SealedDraft.objects.filter(**_scope(survey, token)).values_list("lookup", "sealed")
    found = row.first()
    if found is None:
        return None
    lookup, sealed = found
    payload = sealing.unseal(
        secret=settings.BALLOT_KEY, box=draft_box(survey.pk, lookup), sealed=sealed
    )
    return _view(survey, payload)


def _view(survey: Survey, payload: dict[str, Any]) -> Response:
    saved_at = datetime.fromisoformat(payload["saved_at"])
    return Response(
        community_id=survey.community_id,
        survey=survey,
        status=ResponseStatus.DRAFT,
        answers=payload["answers"],
        definition_version=payload["version"],
        created_at=saved_at,
        updated_at=saved_at,
    )
