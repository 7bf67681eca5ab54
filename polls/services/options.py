"""Adding, moving, renaming and removing poll options."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from community.errors import Conflict, DomainError, Forbidden, NotFound
from community.models import Membership
from community.services.content import PASS, content_hold_for_review, content_screen
from community.text import text_key
from polls.models import (
    MAX_OPTIONS,
    Option,
    Poll,
    PollKind,
    PollStatus,
)
from polls.services.ballots import check_participant
from polls.services.common import (
    locked_poll,
    may_manage,
    refresh_option_order,
)
from polls.services.polls import option_label, slot_label

logger = logging.getLogger(__name__)


def option_add(
    *,
    actor: Membership,
    poll_id: str,
    label: str = "",
    starts_at: datetime | None = None,
    ends_at: datetime | None = None,
) -> Option:
    """Add an option to a poll that is not closed.

    The author and moderators may always add; members only when the poll allows it and they
    may take part. Existing ballots do not rank, choose or score the new option (IRV and Borda
    treat it as unranked), which is why ranked polls accept new options too. Proposals have
    fixed answers. The poll row is locked so positions and the limit hold under concurrency.

    The label is screened by WeChat's check before the transaction: risky refuses (400
    ``content_risky``); "review" or WeChat unreachable store the option held back (nobody
    sees it or votes for it) in the moderation queue until it is released."""
    verdict = content_screen(texts={"label": option_label(label, field="label")}, user=actor.user)
    with transaction.atomic():
        poll = locked_poll(actor, poll_id)
        if not may_manage(actor, poll):
            if not poll.allow_member_options:
                raise Forbidden(
                    _("This poll does not let members add options."), code="options_closed"
                )
            check_participant(actor)
        if poll.status == PollStatus.CLOSED:
            raise Conflict(
                _("This poll has closed; options can no longer be added."), code="poll_closed"
            )
        if poll.kind == PollKind.PROPOSAL:
            raise Conflict(
                _("A proposal has fixed answers; options cannot be added."),
                code="options_not_allowed",
            )
        _check_slot(poll, starts_at, ends_at)
        label = option_label(label, field="label")
        if not label and starts_at:
            label = slot_label(starts_at, ends_at, actor.community.time_zone)
        if not label:
            raise DomainError(
                _("Every option needs a label."), code="label_required", field="label"
            )
        existing = Option.objects.filter(community_id=poll.community_id, poll=poll)
        stats = existing.aggregate(top=Max("position"))
        if existing.count() >= MAX_OPTIONS:
            raise Conflict(
                _("This poll already has %(n)d options, the most it can have.")
                % {"n": MAX_OPTIONS},
                code="too_many_options",
            )
        _refuse_look_alike(existing, label)
        top = stats["top"]
        option = Option.objects.create(
            community_id=poll.community_id,
            poll=poll,
            label=label,
            position=0 if top is None else top + 1,
            starts_at=starts_at,
            ends_at=ends_at,
            added_by=actor.user,
        )
        content_hold_for_review(
            verdict=verdict,
            community_id=poll.community_id,
            target_kind="poll_option",
            target_id=option.pk,
            author_id=actor.user_id,
        )
        refresh_option_order(poll)  # after the hold: a held option is not in the order
        return option


def _check_slot(poll: Poll, starts_at: datetime | None, ends_at: datetime | None) -> None:
    """A time poll's option needs a start; any slot ends after it starts (the database
    refuses it too, but as an error the member can read)."""
    if poll.kind == PollKind.TIME and starts_at is None:
        raise DomainError(
            _("An option of a time poll needs a start time."),
            code="slot_start_required",
            field="starts_at",
        )
    if ends_at and (starts_at is None or ends_at <= starts_at):
        raise DomainError(
            _("A time slot must end after it starts."),
            code="slot_ends_before_start",
            field="ends_at",
        )


def _refuse_look_alike(options, label: str) -> None:
    """Refuse a label that looks like one of ``options``' (same ``text_key``: ``爬山`` and
    ``爬山\u200b``, ``ＡＢＣ`` and ``abc``), so members cannot split the vote between two
    options they cannot tell apart."""
    key = text_key(label)
    if any(text_key(other) == key for other in options.values_list("label", flat=True)):
        raise DomainError(
            _("This poll already has an option with that label."),
            code="duplicate_option",
            field="label",
        )


def _option_to_manage(actor: Membership, option_id: str) -> tuple[Option, Poll]:
    """The option and its poll (locked) when ``actor`` may change that poll. Call inside a
    transaction."""
    option = Option.objects.filter(pk=option_id, community_id=actor.community_id).first()
    if option is None:
        raise NotFound(_("Option not found."))
    poll = locked_poll(actor, option.poll_id)
    if not may_manage(actor, poll):
        raise Forbidden(
            _("Only the author or a moderator can change this poll."), code="cannot_manage"
        )
    return option, poll


def option_update(
    *, actor: Membership, option_id: str, position: int | None = None, **changes: Any
) -> Option:
    """Move an option (``position``) or, while nobody has voted, change its label or slot."""
    if position is not None and position < 0:
        raise DomainError(
            _("The position of an option cannot be negative."),
            code="invalid_position",
            field="position",
        )
    if "label" in changes:
        changes["label"] = option_label(changes["label"] or "", field="label")
    # A new label is screened as a new option is (before the transaction); one WeChat did not
    # pass holds the option back until released.
    verdict = (
        content_screen(texts={"label": changes["label"]}, user=actor.user)
        if changes.get("label")
        else PASS
    )
    with transaction.atomic():
        option, poll = _option_to_manage(actor, option_id)
        if "label" in changes:
            starts_at = changes.get("starts_at", option.starts_at)
            if not changes["label"] and starts_at:  # as at creation: named after the slot
                changes["label"] = slot_label(
                    starts_at, changes.get("ends_at", option.ends_at), actor.community.time_zone
                )
            if not changes["label"]:
                raise DomainError(
                    _("Every option needs a label."), code="label_required", field="label"
                )
        changed = {k: v for k, v in changes.items() if getattr(option, k) != v}
        if changed and poll.voter_count:
            raise Conflict(
                _("Members have already voted; options can no longer be renamed."),
                code="poll_has_votes",
            )
        if "label" in changed:
            siblings = Option.objects.filter(community_id=poll.community_id, poll=poll)
            _refuse_look_alike(siblings.exclude(pk=option.pk), changed["label"])
        if {"starts_at", "ends_at"} & set(changed):
            _check_slot(
                poll,
                changed.get("starts_at", option.starts_at),
                changed.get("ends_at", option.ends_at),
            )
        for name, value in changed.items():
            setattr(option, name, value)
        if position is not None:
            option.position = position
        option.save()
        content_hold_for_review(
            verdict=verdict if "label" in changed else PASS,
            community_id=poll.community_id,
            target_kind="poll_option",
            target_id=option.pk,
            author_id=actor.user_id,
        )
        refresh_option_order(poll)
        return option


def option_delete(*, actor: Membership, option_id: str) -> None:
    """Remove an option while nobody has voted in its poll."""
    with transaction.atomic():
        option, poll = _option_to_manage(actor, option_id)
        if poll.voter_count:
            raise Conflict(
                _("Members have already voted; options can no longer be removed."),
                code="poll_has_votes",
            )
        option.delete()
        refresh_option_order(poll)
