"""Creating and editing polls."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from community.authz import Action, can
from community.errors import Conflict, DomainError, Forbidden
from community.models import Membership
from community.selectors import active_member_count
from community.services.content import content_hold_for_review, content_screen
from community.text import member_text, text_key
from community.timezones import zone_named
from polls.models import (
    MAX_OPTIONS,
    Option,
    Poll,
    PollKind,
    RankedMethod,
    ResultsVisibility,
)
from polls.services.common import (
    SCORE_LIMIT,
    locked_poll,
    may_manage,
    refresh_option_order,
    schedule_finalize,
)

logger = logging.getLogger(__name__)


# --- create and edit ------------------------------------------------------------------------
def _validate_settings(
    *,
    kind: str,
    options: list[dict],
    opens_at: datetime,
    closes_at: datetime,
    now: datetime,
    min_selections: int,
    max_selections: int,
    min_score: int,
    max_score: int,
    secret: bool,
    voters_visible: bool,
    allow_member_options: bool,
    quorum_percent: int,
    min_ballots_to_show: int,
    publish_ballot_box: bool = False,
    check_future: bool = True,
) -> None:
    """Raise ``DomainError`` (with the field) when the settings do not make a valid poll."""
    if closes_at <= opens_at:
        raise DomainError(
            _("The closing time must be after the opening time."),
            code="closes_before_opening",
            field="closes_at",
        )
    if check_future and closes_at <= now:
        raise DomainError(
            _("The closing time must be in the future."), code="closes_in_past", field="closes_at"
        )
    if kind == PollKind.PROPOSAL and options:
        raise DomainError(
            _("A proposal has fixed answers (agree, abstain, disagree, block); leave out options."),
            code="options_not_allowed",
            field="options",
        )
    if kind != PollKind.PROPOSAL and len(options) < (0 if allow_member_options else 2):
        raise DomainError(
            _("A poll needs at least two options (or must let members add them)."),
            code="too_few_options",
            field="options",
        )
    if len(options) > MAX_OPTIONS:
        raise DomainError(
            _("A poll can have at most %(n)d options.") % {"n": MAX_OPTIONS},
            code="too_many_options",
            field="options",
        )
    keys = [text_key(o["label"]) for o in options]
    if len(set(keys)) != len(keys):
        raise DomainError(
            _("Two options have the same label."), code="duplicate_option", field="options"
        )
    for option in options:
        if kind == PollKind.TIME and not option.get("starts_at"):
            raise DomainError(
                _("Every option of a time poll needs a start time."),
                code="slot_start_required",
                field="options",
            )
        if option.get("ends_at") and (
            not option.get("starts_at") or option["ends_at"] <= option["starts_at"]
        ):
            raise DomainError(
                _("A time slot must end after it starts."),
                code="slot_ends_before_start",
                field="options",
            )
    if not 1 <= min_selections <= max_selections:
        raise DomainError(
            _("The minimum number of choices must be between 1 and the maximum."),
            code="invalid_selections",
            field="min_selections",
        )
    if kind == PollKind.MULTIPLE and not allow_member_options and min_selections > len(options):
        raise DomainError(
            _("The minimum number of choices is larger than the number of options."),
            code="invalid_selections",
            field="min_selections",
        )
    if not -SCORE_LIMIT <= min_score < max_score <= SCORE_LIMIT:
        raise DomainError(
            _("The lowest score must be below the highest, both between -100 and 100."),
            code="invalid_score_range",
            field="max_score",
        )
    if secret and voters_visible:
        raise DomainError(
            _("The voters of a secret poll can never be shown."),
            code="secret_voters_never_visible",
            field="voters_visible",
        )
    if publish_ballot_box and not secret:
        raise DomainError(
            _("Only a secret poll has a ballot box to publish."),
            code="box_publication_needs_secret",
            field="publish_ballot_box",
        )
    if not 0 <= quorum_percent <= 100:
        raise DomainError(
            _("The quorum is a percentage between 0 and 100."),
            code="invalid_quorum",
            field="quorum_percent",
        )
    if min_ballots_to_show < 1:
        raise DomainError(
            _("At least one ballot is needed before counts show."),
            code="invalid_min_ballots",
            field="min_ballots_to_show",
        )


TITLE_MAX_LENGTH = Poll._meta.get_field("title").max_length
LABEL_MAX_LENGTH = Option._meta.get_field("label").max_length


def option_label(label: str, *, field: str) -> str:
    """An option's label in the published normal form; blank is allowed here (a time slot's
    label is then made from its times; other options refuse it)."""
    return member_text(label, field=field, blank=True, max_length=LABEL_MAX_LENGTH)


def slot_label(starts_at: datetime, ends_at: datetime | None, tz_name: str) -> str:
    """The label of a time slot, in the community's zone (``tz_name``)."""
    tz = zone_named(tz_name)
    start = starts_at.astimezone(tz)
    label = start.strftime("%Y-%m-%d %H:%M")
    if ends_at:
        label += "–" + ends_at.astimezone(tz).strftime("%H:%M")
    return label


def poll_create(
    *,
    actor: Membership,
    title: str,
    kind: str,
    closes_at: datetime,
    options: list[dict] | None = None,
    description: str = "",
    opens_at: datetime | None = None,
    ranked_method: str = RankedMethod.IRV,
    min_selections: int = 1,
    max_selections: int | None = None,
    min_score: int = 0,
    max_score: int = 5,
    allow_member_options: bool = False,
    secret: bool = False,
    publish_ballot_box: bool = False,
    results_visibility: str | None = None,
    allow_vote_change: bool = True,
    min_ballots_to_show: int = 3,
    quorum_percent: int = 0,
    voters_visible: bool = False,
    reminder_hours: int = 24,
) -> Poll:
    """Create a poll with its options in ``actor``'s community.

    ``options`` are dicts with ``label`` and, for time polls, ``starts_at``/``ends_at`` (a
    blank label is generated from the slot, in the community's time zone). Single-choice polls
    take exactly one choice; for multiple-choice ``max_selections`` defaults to the number of
    options, for ranked polls to every option. When the poll is open at once the electorate is
    recorded now. Finalization is scheduled at ``closes_at`` after commit.

    Results show ``always`` by default, except for secret polls: members see only the turnout
    until close unless the author asks for live results, which then move in batches of at least
    ``min_ballots_to_show`` ballots (see ``polls.services.mixing``).

    ``publish_ballot_box`` (secret polls, off by default, changeable only until the first
    vote so that voters know before voting) lets the author publish the box after close
    (``poll_ballot_box_publish``)."""
    if results_visibility is None:
        results_visibility = ResultsVisibility.AFTER_CLOSE if secret else ResultsVisibility.ALWAYS
    if not can(actor, Action.CREATE_POLL):
        raise Forbidden(_("You may not create polls in this community."), code="cannot_create_poll")
    community = actor.community
    now = timezone.now()
    opens_at = opens_at or now
    options = [dict(o) for o in (options or [])]
    title = member_text(title, field="title", max_length=TITLE_MAX_LENGTH)
    description = member_text(description, field="description", multiline=True, blank=True)
    for option in options:
        option["label"] = option_label(option.get("label") or "", field="options")
        if not option["label"] and option.get("starts_at"):
            option["label"] = slot_label(
                option["starts_at"], option.get("ends_at"), community.time_zone
            )
        if not option["label"]:
            raise DomainError(
                _("Every option needs a label."), code="label_required", field="options"
            )
    if kind == PollKind.SINGLE:
        min_selections = max_selections = 1
    elif max_selections is None:
        max_selections = (
            MAX_OPTIONS
            if kind != PollKind.MULTIPLE or allow_member_options
            else max(len(options), 1)
        )
    _validate_settings(
        kind=kind,
        options=options,
        opens_at=opens_at,
        closes_at=closes_at,
        now=now,
        min_selections=min_selections,
        max_selections=max_selections,
        min_score=min_score,
        max_score=max_score,
        secret=secret,
        voters_visible=voters_visible,
        allow_member_options=allow_member_options,
        quorum_percent=quorum_percent,
        min_ballots_to_show=min_ballots_to_show,
        publish_ballot_box=publish_ballot_box,
    )
    verdict = content_screen(
        texts={
            "title": title,
            "description": description,
            "options": "\n".join(option["label"] for option in options),
        },
        user=actor.user,
    )
    with transaction.atomic():
        poll = Poll.objects.create(
            community=community,
            author=actor.user,
            title=title,
            description=description,
            kind=kind,
            ranked_method=ranked_method,
            min_selections=min_selections,
            max_selections=max_selections,
            min_score=min_score,
            max_score=max_score,
            allow_member_options=allow_member_options,
            secret=secret,
            publish_ballot_box=publish_ballot_box,
            results_visibility=results_visibility,
            allow_vote_change=allow_vote_change,
            min_ballots_to_show=min_ballots_to_show,
            quorum_percent=quorum_percent,
            voters_visible=voters_visible,
            opens_at=opens_at,
            closes_at=closes_at,
            reminder_hours=reminder_hours,
            eligible_count=(
                active_member_count(community_id=community.pk) if opens_at <= now else None
            ),
        )
        Option.objects.bulk_create(
            [
                Option(
                    community=community,
                    poll=poll,
                    label=option["label"],
                    position=index,
                    starts_at=option.get("starts_at"),
                    ends_at=option.get("ends_at"),
                )
                for index, option in enumerate(options)
            ]
        )
        refresh_option_order(poll)
        schedule_finalize(poll)
        content_hold_for_review(
            verdict=verdict,
            community_id=community.pk,
            target_kind="poll",
            target_id=poll.pk,
            author_id=actor.user_id,
        )
    return poll


#: Fields ``poll_update`` changes at any time, and those it changes only before the first vote.
EDITABLE_ALWAYS = {
    "title",
    "description",
    "closes_at",
    "reminder_hours",
    "results_visibility",
    "quorum_percent",
    "voters_visible",
    "min_ballots_to_show",
    "allow_member_options",
    "allow_vote_change",
}
EDITABLE_BEFORE_VOTES = {
    "kind",
    "secret",
    "publish_ballot_box",
    "ranked_method",
    "min_selections",
    "max_selections",
    "min_score",
    "max_score",
    "opens_at",
}


def _current_options(poll: Poll) -> list[dict]:
    """The poll's stored options in the shape the validator takes: a time poll's slots must be
    checked with their start and end. The id stands in for the label: labels were checked
    when they were written, and a pair that a later rule finds too alike (options stored
    before look-alikes were refused) must not block an edit that leaves the options alone."""
    return [
        {"label": row["id"], "starts_at": row["starts_at"], "ends_at": row["ends_at"]}
        for row in Option.objects.filter(community_id=poll.community_id, poll_id=poll.pk)
        .order_by("position", "created_at")
        .values("id", "starts_at", "ends_at")
    ]


def poll_update(*, actor: Membership, poll_id: str, **changes: Any) -> Poll:
    """Edit a poll (author or moderators). The ballot's shape (kind, secrecy, ranges, opening
    time) can change only while nobody has voted; a new closing time of an open poll is
    rescheduled. Closing and reopening have their own services."""
    unknown = set(changes) - EDITABLE_ALWAYS - EDITABLE_BEFORE_VOTES
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    if "title" in changes:
        changes["title"] = member_text(changes["title"], field="title", max_length=TITLE_MAX_LENGTH)
    if "description" in changes:
        changes["description"] = member_text(
            changes["description"] or "", field="description", multiline=True, blank=True
        )
    with transaction.atomic():
        poll = locked_poll(actor, poll_id)
        if not may_manage(actor, poll):
            raise Forbidden(
                _("Only the author or a moderator can change this poll."), code="cannot_manage"
            )
        shape = {k for k, v in changes.items() if k in EDITABLE_BEFORE_VOTES}
        shape = {k for k in shape if getattr(poll, k) != changes[k]}
        if shape and poll.voter_count:
            raise Conflict(
                _(
                    "Members have already voted; the kind and ranges of the poll can no longer change."
                ),
                code="poll_has_votes",
            )
        if shape:  # votes validated against the old shape are refused at their guard
            poll.shape_version += 1
        for name, value in changes.items():
            setattr(poll, name, value)
        if poll.kind == PollKind.SINGLE:
            poll.min_selections = poll.max_selections = 1
        now = timezone.now()
        _validate_settings(
            kind=poll.kind,
            options=_current_options(poll) if poll.kind != PollKind.PROPOSAL else [],
            opens_at=poll.opens_at,
            closes_at=poll.closes_at,
            now=now,
            min_selections=poll.min_selections,
            max_selections=poll.max_selections,
            min_score=poll.min_score,
            max_score=poll.max_score,
            secret=poll.secret,
            voters_visible=poll.voters_visible,
            allow_member_options=True,
            quorum_percent=poll.quorum_percent,
            min_ballots_to_show=poll.min_ballots_to_show,
            publish_ballot_box=poll.publish_ballot_box,
            check_future="closes_at" in changes and poll.closed_at is None,
        )
        poll.save()
        if "closes_at" in changes:
            schedule_finalize(poll)
    return poll
