"""The public tags of the ballots of a poll whose box may be published, kept sealed until then.

A voter's public tag (``polls.recount.ballot_tag``) is computed from their receipt when they
vote (the only moment the server sees the receipt), travels sealed inside the box entry, and
is kept on the mixed :class:`~polls.models.SecretBallot` sealed again (``community.sealing``,
its own box ``poll-tag:<id>``, padded to one size). So until the author publishes the box, the
database holds no tag in the clear, and afterwards nothing in the database pairs a published
ballot with a stored row: the tag is not derivable from the stored receipt hash, and the sealed
tag opens only with the application's secrets. Polls that will never be published carry no
tag at all.
"""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext as _

from community import sealing
from community.errors import Conflict
from polls.models import Poll
from polls.recount import ballot_tag

#: A tag (64 hex characters) framed and padded to this many bytes before sealing.
TAG_BUCKET = 128


def public_tag(poll: Poll, receipt: str) -> str | None:
    """The public tag of the ballot cast with ``receipt``, when ``poll`` may publish its box."""
    return ballot_tag(poll.pk, receipt) if poll.publish_ballot_box else None


def _box(poll_id: str) -> str:
    return f"poll-tag:{poll_id}"


def seal_tag(poll_id: str, tag: str | None) -> bytes | None:
    if not tag:
        return None
    return sealing.seal(
        secret=settings.BALLOT_KEY, box=_box(poll_id), payload=tag, bucket=TAG_BUCKET
    )


def unseal_tag(poll_id: str, sealed: bytes) -> str:
    return sealing.unseal(secret=settings.BALLOT_KEY, box=_box(poll_id), sealed=sealed)


def check_publishable(poll: Poll) -> None:
    """Refuse a poll whose box may not be published: a named poll has no box, and a secret
    poll's voters were promised a sealed box unless the author chose publication before the
    first vote."""
    if not poll.secret:
        raise Conflict(
            _("Only secret polls have a ballot box; the ballots of this poll are named."),
            code="poll_not_secret",
        )
    if not poll.publish_ballot_box:
        raise Conflict(
            _(
                "This poll's ballot box stays sealed: publishing it was not chosen before "
                "the first vote."
            ),
            code="box_publication_not_chosen",
        )
