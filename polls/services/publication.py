"""Publishing the ballot box of a closed secret poll, for a recount anyone can run."""

from __future__ import annotations

import logging
import secrets

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from community.errors import Conflict, Forbidden
from community.models import Membership
from polls.box_publication import check_publishable, unseal_tag
from polls.models import BallotBoxPublication, Poll, PollStatus, SecretBallot
from polls.recount import CountingParameters, recount, results_match
from polls.results import counting_parameters
from polls.services.common import locked_poll, may_manage, option_ids
from polls.services.finalize import freeze_results

logger = logging.getLogger(__name__)

_shuffle = secrets.SystemRandom().shuffle


def poll_ballot_box_publish(*, actor: Membership, poll_id: str) -> BallotBoxPublication:
    """Publish the ballot box of a closed secret poll whose author chose publication (before
    the first vote, so voters knew): its author or a moderator, once; a second call returns
    the publication made.

    Under the poll's lock the results are frozen first (mixing the last batch), then every
    final :class:`SecretBallot` is written out with its public tag (unsealed here) in an order
    drawn anew by ``secrets.SystemRandom``, with the counting parameters and the frozen result.
    The ballots are recounted by ``polls.recount`` before anything is stored: a box that does
    not give the frozen result is never published (it would be a bug, and is logged)."""
    now = timezone.now()
    with transaction.atomic():
        poll = locked_poll(actor, poll_id)
        if not may_manage(actor, poll):
            raise Forbidden(
                _("Only the author or a moderator can publish this poll's ballot box."),
                code="cannot_manage",
            )
        check_publishable(poll)
        if poll.status_at(now) != PollStatus.CLOSED:
            raise Conflict(
                _("The ballot box can be published only after the poll has closed."),
                code="poll_not_closed",
            )
        existing = BallotBoxPublication.objects.filter(
            community_id=poll.community_id, poll_id=poll.pk
        ).first()
        if existing is not None:
            return existing
        freeze_results(poll, now)
        params = counting_parameters(poll, option_ids(poll))
        ballots = [
            {"tag": unseal_tag(poll.pk, sealed), "choices": choices}
            for choices, sealed in SecretBallot.objects.filter(
                community_id=poll.community_id, poll_id=poll.pk
            ).values_list("choices", "sealed_tag")
        ]
        _shuffle(ballots)
        _check_recount(poll, params, ballots)
        publication = BallotBoxPublication.objects.create(
            community_id=poll.community_id,
            poll_id=poll.pk,
            published_at=now,
            counting=params.to_dict(),
            ballots=ballots,
            result=poll.final_results,
        )
        Poll.objects.filter(pk=poll.pk).update(box_published_at=now)
        poll.box_published_at = now
    logger.info("ballot box of poll %s published (%d ballots)", poll.pk, len(ballots))
    return publication


def _check_recount(poll: Poll, params: CountingParameters, ballots: list[dict]) -> None:
    if not results_match(recount(params, ballots), poll.final_results):
        logger.error("the ballot box of poll %s does not recount to its results", poll.pk)
        raise RuntimeError(f"the ballot box of poll {poll.pk} does not recount to its results")
