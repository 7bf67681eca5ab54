"""Ballot shapes: validate a member's body against the poll and derive its tally keys.

Pure functions over a poll's settings and option ids (no queries), used by the cast service.
A ballot adds one to each of its keys; each key appears at most once per ballot, so replacing
a ballot moves every affected tally by exactly +1 or -1 (see ``tally_store.tally_record``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from community.errors import DomainError
from polls.counting import PROPOSAL_POSITIONS, TIME_ANSWERS
from polls.models import Poll, PollKind
from polls.recount import RANK_SEPARATOR, VOTERS_KEY, ballot_tally_keys

#: ``VOTERS_KEY`` (the number of ballots in a poll's tallies) and ``RANK_SEPARATOR`` live in
#: the pure ``polls.recount``; they are re-exported here, where the ballot code has them.
__all__ = ["RANK_SEPARATOR", "VOTERS_KEY", "Choices", "ballot_keys", "validate_ballot"]
BODY_FIELD = {
    PollKind.SINGLE: "option_ids",
    PollKind.MULTIPLE: "option_ids",
    PollKind.RANKED: "ranking",
    PollKind.SCORE: "scores",
    PollKind.PROPOSAL: "position",
    PollKind.TIME: "answers",
}
BALLOT_FIELDS = ("option_ids", "ranking", "scores", "position", "answers", "reason")


@dataclass(frozen=True)
class Choices:
    """A validated ballot: what is stored, the tally keys it adds to, the proposal reason."""

    data: dict[str, Any]
    keys: tuple[str, ...]
    reason: str = ""


def ballot_keys(poll: Poll, data: dict[str, Any]) -> tuple[str, ...]:
    """The tally keys of stored ``choices`` (``polls.recount.ballot_tally_keys``, which the
    recount of a published box uses too)."""
    return ballot_tally_keys(poll.kind, data)


def _error(message: str, code: str, field: str) -> DomainError:
    return DomainError(message, code=code, field=field)


def _known(ids: Sequence[str], options: Sequence[str], field: str) -> None:
    allowed = set(options)
    for option_id in ids:
        if option_id not in allowed:
            raise _error(
                _("“%(id)s” is not an option of this poll.") % {"id": option_id},
                "unknown_option",
                field,
            )


def _ordered(ids, options: Sequence[str]) -> list[str]:
    position = {option: index for index, option in enumerate(options)}
    return sorted(ids, key=position.__getitem__)


def validate_ballot(poll: Poll, options: Sequence[str], body: dict[str, Any]) -> Choices:
    """Check ``body`` (the validated request fields) against ``poll`` whose option ids are
    ``options`` in poll order; raise ``DomainError`` naming the field, or return the choices."""
    kind = PollKind(poll.kind)
    field = BODY_FIELD[kind]
    for other in BALLOT_FIELDS:
        if other != field and body.get(other) is not None and other != "reason":
            raise _error(
                _("A %(kind)s poll does not take “%(field)s”; send “%(expected)s”.")
                % {"kind": kind.label, "field": other, "expected": field},
                "wrong_ballot_shape",
                other,
            )
    if body.get("reason") and kind != PollKind.PROPOSAL:
        raise _error(_("Only proposals take a reason."), "wrong_ballot_shape", "reason")
    value = body.get(field)
    if value is None:
        raise _error(
            _("A %(kind)s poll needs “%(field)s”.") % {"kind": kind.label, "field": field},
            "required",
            field,
        )

    if kind in (PollKind.SINGLE, PollKind.MULTIPLE, PollKind.RANKED):
        ids = list(value)
        if len(set(ids)) != len(ids):
            if kind == PollKind.RANKED:
                raise _error(_("Each option can be ranked only once."), "duplicate_rank", field)
            raise _error(_("Each option can be chosen only once."), "duplicate_option", field)
        _known(ids, options, field)
        low, high = poll.min_selections, poll.max_selections
        if kind == PollKind.SINGLE:
            low = high = 1
        if len(ids) < low:
            raise _error(
                _("Please choose at least %(n)d option(s).") % {"n": low}, "too_few_choices", field
            )
        if len(ids) > high:
            raise _error(
                _("Please choose at most %(n)d option(s).") % {"n": high},
                "too_many_choices",
                field,
            )
        data = {field: ids if kind == PollKind.RANKED else _ordered(ids, options)}
    elif kind == PollKind.SCORE:
        if not value:
            raise _error(_("Please score at least one option."), "too_few_choices", field)
        _known(list(value), options, field)
        for score in value.values():
            if not poll.min_score <= score <= poll.max_score:
                raise _error(
                    _("Scores go from %(low)d to %(high)d; %(score)d is outside that range.")
                    % {"low": poll.min_score, "high": poll.max_score, "score": score},
                    "score_out_of_range",
                    field,
                )
        data = {field: {option: value[option] for option in _ordered(value, options)}}
    elif kind == PollKind.PROPOSAL:
        if value not in PROPOSAL_POSITIONS:
            raise _error(
                _("Unknown position “%(value)s”: use agree, abstain, disagree or block.")
                % {"value": value},
                "unknown_position",
                field,
            )
        reason = (body.get("reason") or "").strip()
        if reason and poll.secret:
            raise _error(
                _("Reasons are not kept on secret ballots: they could identify you."),
                "reason_not_allowed",
                "reason",
            )
        data = {field: value}
        return Choices(data=data, keys=ballot_keys(poll, data), reason=reason)
    else:  # time poll
        if not value:
            raise _error(_("Please answer at least one time slot."), "too_few_choices", field)
        _known(list(value), options, field)
        for answer in value.values():
            if answer not in TIME_ANSWERS:
                raise _error(
                    _("Unknown answer “%(value)s”: use yes, if_need_be or no.") % {"value": answer},
                    "unknown_answer",
                    field,
                )
        data = {field: {option: value[option] for option in _ordered(value, options)}}
    return Choices(data=data, keys=ballot_keys(poll, data))
