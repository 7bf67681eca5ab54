"""The box of an anonymous survey: sealing a response into it, and mixing it out.

A member's transaction records their participation and puts the response, encrypted
(``community.sealing``), into the survey's box; it writes no plaintext answer. The mixing step
opens the box once at least ``min_group_size`` (k) sealed responses wait -- and whatever waits
once the survey is closed --, shuffles them, and writes the plaintext ``Response`` and
``Answer`` rows in that shuffled order in one transaction, all with the same coarse
timestamp. So ids, physical order, transaction ids and timestamps of the readable rows say
only which batch a response came in, and reports (which read only mixed rows) move in steps
of at least k responses. The residual, stated to members: the last batch at close may hold
fewer than k responses.

Mixing runs ``SURVEY_MIX_DELAY`` seconds (1 by default) after the commit of the submission that
completes a batch, in one task with whatever is submitted meanwhile
(:func:`queue_mix_when_full`), after an edit (:func:`queue_mix`), from ``survey_close``, and
from the periodic sweep (:func:`survey_responses_mix_due`), so it holds without a worker
(Celery eager mode, which runs the task at once).
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from community.locking import lock_rows
from community.queue_once import delay_once
from community.sealing import seal, unseal
from surveys import response_store
from surveys.models import (
    Response,
    ResponseStatus,
    SealedResponse,
    Survey,
    SurveyState,
    box_lookup,
)
from surveys.response_store import AnswerRow


def sealed_response(
    *,
    survey: Survey,
    token: str,
    token_hash: str,
    answers: dict[str, Any],
    rows: list[AnswerRow],
    at: datetime,
) -> SealedResponse:
    """The (unsaved) box entry of a submitted or edited anonymous response: the response
    sealed, found again by ``box_lookup(token)``; the mixed response will carry
    ``token_hash`` (and replace the mixed response that has it)."""
    payload = {
        "answers": answers,
        "rows": response_store.answer_rows_plain(rows),
        "version": survey.version,
        "token_hash": token_hash,
        "at": at.isoformat(),
    }
    return SealedResponse(
        community_id=survey.community_id,
        survey=survey,
        lookup=box_lookup(token),
        sealed=seal(secret=settings.BALLOT_KEY, box=f"survey:{survey.pk}", payload=payload),
    )


def response_seal(
    *,
    survey: Survey,
    token: str,
    token_hash: str,
    answers: dict[str, Any],
    rows: list[AnswerRow],
    at: datetime,
) -> None:
    """Put an edited anonymous response into ``survey``'s box, replacing the one still
    waiting for the same edit token. Call inside the member's transaction. (A submission
    always has a fresh token: ``response_submit`` inserts its :func:`sealed_response`.)"""
    entry = sealed_response(
        survey=survey, token=token, token_hash=token_hash, answers=answers, rows=rows, at=at
    )
    waiting = lock_rows(
        SealedResponse.objects.filter(
            community_id=survey.community_id, survey=survey, lookup=entry.lookup
        )
    ).first()
    if waiting is not None:
        waiting.sealed = entry.sealed
        waiting.save(update_fields=["sealed"])
    else:
        entry.save(force_insert=True)
        # One more waiting (the survey row lock last: see surveys.services.responses).
        Survey.objects.filter(pk=survey.pk).update(box_waiting=F("box_waiting") + 1)


def response_waiting(*, survey: Survey, token: str) -> Response | None:
    """The member's response still waiting in the box for ``token``, opened, as an unsaved
    ``Response`` (for showing it back to them), or None."""
    waiting = SealedResponse.objects.filter(
        community_id=survey.community_id, survey=survey, lookup=box_lookup(token)
    ).first()
    if waiting is None:
        return None
    payload = unseal(secret=settings.BALLOT_KEY, box=f"survey:{survey.pk}", sealed=waiting.sealed)
    at = datetime.fromisoformat(payload["at"])
    return Response(
        community_id=survey.community_id,
        survey=survey,
        status=ResponseStatus.SUBMITTED,
        answers=payload["answers"],
        definition_version=payload["version"],
        created_at=at,
        updated_at=at,
        submitted_at=at,
    )


def queue_mix(survey_id: str) -> None:
    """Mix ``survey_id``'s box once the current transaction commits (a broker outage leaves
    the box to the periodic sweep)."""
    from surveys.tasks import mix_responses

    transaction.on_commit(lambda: mix_responses.delay(survey_id), robust=True)


def mix_pending_key(survey_id: str) -> str:
    """The pending mark of ``survey_id``'s mixing task (``community.queue_once``)."""
    return f"surveys:mix:{survey_id}"


def completes_batch(survey: Survey, waiting: int) -> bool:
    """Whether the submission that left ``waiting`` responses in the box (its
    ``box_waiting``, counted under the survey row lock) completed a batch: ``waiting`` reached
    a multiple of k. Submissions count one at a time, so every batch has exactly one such
    submission."""
    k = survey.min_group_size
    return waiting >= k and waiting % k == 0


def queue_mix_when_full(survey: Survey, *, waiting: int | None) -> None:
    """After the current transaction commits, queue the mixing step when this submission
    completed a batch (:func:`completes_batch`) and no mixing task of the survey is queued and
    not started yet (``community.queue_once``: that one will mix this response too).

    No query: ``waiting`` comes back from the submission's own statement. Running a mixer
    after every anonymous submission cost two thirds of the submission (eagerly) or a task
    each (with a worker); counting the box after every commit cost a query each. A mixer that
    leaves a batch behind (responses committed after it read the box) queues the next one
    itself (:func:`survey_responses_mix`), so a full batch never waits for the sweep."""
    if waiting is not None and completes_batch(survey, waiting):
        _queue_once_after_commit(survey.pk)


def _queue_once_after_commit(survey_id: str) -> None:
    """Once the current transaction commits, queue ``survey_id``'s mixing task, to run
    ``SURVEY_MIX_DELAY`` seconds later, unless one is queued and not started yet
    (``community.queue_once``): under steady traffic the box is mixed once per delay, in one
    batch of everything that came meanwhile, not once per k responses. Each mix costs a
    fixed few milliseconds of CPU (its task, its reads, its statements and commit) besides
    its rows, so small batches cost far more per response; and a bigger batch hides each
    response among more. Reports show the mixed responses that much later."""
    from surveys.tasks import mix_responses

    def queue() -> None:
        delay_once(
            mix_responses,
            survey_id,
            key=mix_pending_key(survey_id),
            countdown=settings.SURVEY_MIX_DELAY,
        )

    transaction.on_commit(queue, robust=True)


def _coarse(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def survey_responses_mix(*, survey_id: str, now: datetime | None = None) -> int:
    """Open, shuffle and write out the waiting responses of an anonymous survey when at least
    ``min_group_size`` wait, or any number once it is closed; returns how many were mixed.

    Safe to run twice or in parallel: the sealed rows are locked (``FOR UPDATE``, they are
    deleted) and a second mixer skips them (``SKIP LOCKED``) instead of queueing behind the
    first: with eager tasks every anonymous submission runs a mixer after its commit, and
    they must not serialize. What it skipped is the first mixer's batch; what it sees is
    mixed only when it alone makes a batch of at least k. When at least k still wait after
    its commit (committed while it mixed), it queues the next mix."""
    now = now or timezone.now()
    with transaction.atomic():
        survey = Survey.objects.filter(pk=survey_id, anonymous=True).first()
        if survey is None:
            return 0
        entries = list(
            lock_rows(
                SealedResponse.objects.filter(community_id=survey.community_id, survey=survey),
                for_delete=True,
                skip_locked=True,
            )
        )
        closed = survey.state(now) == SurveyState.CLOSED
        if not entries or (len(entries) < survey.min_group_size and not closed):
            return 0
        payloads = [
            unseal(secret=settings.BALLOT_KEY, box=f"survey:{survey.pk}", sealed=entry.sealed)
            for entry in entries
        ]
        secrets.SystemRandom().shuffle(payloads)
        # Two statements for the whole batch (the box entries and the responses its edits
        # replace out, the shuffled responses and all their answer rows in, the batch off
        # the survey's count of waiting responses). The rows go as sealed, in their plain
        # JSON form (``answer_rows_plain``): nothing to convert on the way through.
        waiting = response_store.mixed_batch_write(
            survey=survey,
            sealed_ids=[entry.pk for entry in entries],
            responses=[
                (payload["answers"], payload["version"], payload["token_hash"], payload["rows"])
                for payload in payloads
            ],
            at=_coarse(now),
        )
    if waiting >= survey.min_group_size and not closed:
        _queue_once_after_commit(survey.pk)
    return len(payloads)


def survey_responses_mix_due(*, now: datetime | None = None) -> int:
    """Periodic: mix every anonymous survey whose box holds a full batch, or anything once
    the survey is closed. Returns how many responses were mixed."""
    survey_ids = SealedResponse.objects.values_list("survey_id", flat=True).distinct().order_by()
    return sum(survey_responses_mix(survey_id=sid, now=now) for sid in list(survey_ids))
