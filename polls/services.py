"""Every write of the polls app: one keyword-only function per use case.

Lock order (always the same, so concurrent writes cannot deadlock): the member's own row
(``Ballot`` or ``Participation``), then the ``SecretBallot``, then ``Tally`` rows in key order,
then the ``Poll`` row last (a conditional ``UPDATE`` that doubles as the "still open" guard).
Services that only change the poll (close, reopen, finalize, add option) lock the poll alone.
Side effects (Celery tasks) are enqueued with ``transaction.on_commit``.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import Exists, F, Max, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from community.authz import Action, can, ensure
from community.errors import Conflict, DomainError, Forbidden, NotFound
from community.models import Membership, MembershipStatus, User
from community.selectors import active_member_count
from community.services.notifications import notification_enqueue
from polls.ballots import ballot_keys, validate_ballot
from polls.models import (
    MAX_OPTIONS,
    Ballot,
    Option,
    Participation,
    Poll,
    PollKind,
    PollStatus,
    RankedMethod,
    ResultsVisibility,
    SecretBallot,
    Tally,
)
from polls.results import compute_results, tallies_of

logger = logging.getLogger(__name__)

RECEIPT_MIN_LENGTH = 32
MAX_REMINDER_HOURS = 24 * 14
SCORE_LIMIT = 100
NOTIFY_CLOSED = "poll_closed"
NOTIFY_REMINDER = "poll_reminder"


# --- helpers --------------------------------------------------------------------------------
def hash_receipt(receipt: str) -> str:
    """SHA-256 of a secret-ballot receipt (receipts carry >= 128 random bits)."""
    return hashlib.sha256(receipt.encode()).hexdigest()


def poll_object_key(poll_id: str) -> str:
    return f"poll:{poll_id}"


def _schedule_finalize(poll: Poll) -> None:
    """After commit: finalize at ``closes_at`` (or now when already closed). The task is a
    no-op unless the poll is closed by then, so stale schedules after a reopen are harmless."""
    from polls.tasks import poll_finalize_task

    poll_id = poll.pk
    eta = None if poll.closed_at else poll.closes_at
    transaction.on_commit(
        lambda: poll_finalize_task.apply_async(args=[poll_id], eta=eta), robust=True
    )


def _may_manage(actor: Membership, poll: Poll) -> bool:
    """The poll's author (still an active member) or a moderator and above."""
    if actor is None:
        return False
    is_author = actor.user_id == poll.author_id and actor.status == MembershipStatus.ACTIVE
    return is_author or can(actor, Action.MODERATE)


def _locked_poll(actor: Membership, poll_id: str) -> Poll:
    poll = (
        Poll.objects.select_for_update().filter(pk=poll_id, community_id=actor.community_id).first()
    )
    if poll is None:
        raise NotFound(_("Poll not found."))
    return poll


def _option_ids(poll: Poll) -> list[str]:
    return list(
        Option.objects.filter(community_id=poll.community_id, poll_id=poll.pk)
        .order_by("position", "created_at")
        .values_list("id", flat=True)
    )


def _refresh_option_order(poll: Poll) -> None:
    """Store the option ids in poll order on the poll (call with the poll row locked, after
    any change to its options)."""
    poll.option_order = _option_ids(poll)
    Poll.objects.filter(pk=poll.pk).update(option_order=poll.option_order)


def _insert_once(model, conflict: Iterable[str], **values: Any) -> bool:
    """``INSERT ... ON CONFLICT (conflict) DO NOTHING`` in one statement (PostgreSQL and
    SQLite); True when the row was inserted. A concurrent insert of the same key waits for the
    other transaction and then reports False, so callers never need a savepoint."""
    fields = [model._meta.get_field(name) for name in values]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in fields)
    params = [f.get_db_prep_save(values[f.name], connection) for f in fields]
    target = ", ".join(quote(model._meta.get_field(name).column) for name in conflict)
    sql = (
        # identifiers come from model meta, values are parameters
        f"INSERT INTO {quote(model._meta.db_table)} ({columns}) "  # noqa: S608
        f"VALUES ({', '.join(['%s'] * len(fields))}) ON CONFLICT ({target}) DO NOTHING"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount == 1


def _tally_rows(removed: Iterable[str], added: Iterable[str]) -> list[tuple[str, int]]:
    delta = Counter(added)
    delta.subtract(removed)
    rows = sorted((key, change) for key, change in delta.items() if change)
    if any(change not in (1, -1) for _key, change in rows):
        raise ValueError(f"tally changes must be +1 or -1: {rows!r}")
    return rows


def _record(
    poll: Poll,
    *,
    now: datetime,
    voters: int,
    removed: Iterable[str] = (),
    added: Iterable[str] = (),
) -> None:
    """The last statement of a ballot transaction: the "still open" guard on the poll row, then
    the tally changes (-1 per removed key, +1 per added key). Raises 409 (rolling back the whole
    transaction) when the poll closed or was finalized meanwhile.

    Locks, in this order: the poll row — ``UPDATE voter_count`` (exclusive) when a ballot is
    added or withdrawn, ``FOR SHARE`` when one is replaced, so replacements do not queue behind
    each other — then the tally rows in key order. Every ballot write follows this order, so
    they cannot deadlock; the finalize task's ``FOR UPDATE`` on the poll conflicts with both,
    so it either sees this ballot or this guard matches no row.

    A ballot holds each key at most once, so every net change is +1 or -1; it is sent as the
    inserted count (1 or 0) and applied as ``count + 2 * excluded.count - 1``. A decrement of a
    missing or zero row would break ``count >= 0``, which is the point: tallies never drift.
    On PostgreSQL guard and upsert are one statement (a data-modifying CTE), so hot tally rows
    stay locked only for that statement and the commit."""
    rows = _tally_rows(removed, added)
    quote = connection.ops.quote_name
    table, key, count = quote(Tally._meta.db_table), quote("key"), quote("count")
    upsert_tail = (
        f"ON CONFLICT (community_id, poll_id, {key}) "
        f"DO UPDATE SET {count} = {table}.{count} + 2 * excluded.{count} - 1"
    )
    params: list[Any] = []
    for tally_key, change in rows:
        params += [poll.community_id, poll.pk, tally_key, 1 if change > 0 else 0]
    values = ", ".join(["(%s, %s, %s, %s)"] * len(rows))

    if connection.vendor == "postgresql" and rows:
        poll_table = quote(Poll._meta.db_table)
        condition = (
            "id = %s AND closed_at IS NULL AND finalized_at IS NULL "
            "AND opens_at <= %s AND closes_at > %s"
        )
        if voters:
            head = (
                f"UPDATE {poll_table} SET voter_count = voter_count + %s "  # noqa: S608
                f"WHERE {condition} RETURNING 1"
            )
            head_params = [voters, poll.pk, now, now]
        else:
            head = f"SELECT 1 FROM {poll_table} WHERE {condition} FOR SHARE"  # noqa: S608
            head_params = [poll.pk, now, now]
        sql = (
            f"WITH guard AS ({head}) "  # noqa: S608 - identifiers from model meta
            f"INSERT INTO {table} (community_id, poll_id, {key}, {count}) "
            f"SELECT v.c, v.p, v.k, v.n FROM (VALUES {values}) AS v(c, p, k, n) "
            f"WHERE EXISTS (SELECT 1 FROM guard) ORDER BY v.k {upsert_tail}"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, head_params + params)
            ok = cursor.rowcount > 0
    else:
        guard = Poll.objects.filter(
            pk=poll.pk,
            closed_at__isnull=True,
            finalized_at__isnull=True,
            opens_at__lte=now,
            closes_at__gt=now,
        )
        if voters:
            ok = bool(guard.update(voter_count=F("voter_count") + voters))
        else:
            sql, guard_params = guard.values("pk").query.sql_with_params()
            if connection.vendor == "postgresql":
                sql += " FOR SHARE"
            with connection.cursor() as cursor:
                cursor.execute(sql, guard_params)
                ok = cursor.fetchone() is not None
        if ok and rows:
            sql = (
                f"INSERT INTO {table} (community_id, poll_id, {key}, {count}) "  # noqa: S608
                f"VALUES {values} {upsert_tail}"
            )
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
    if not ok:
        raise Conflict(_("This poll has closed; votes are no longer accepted."), code="poll_closed")
    poll.voter_count += voters


def poll_ensure_eligible(*, poll: Poll, now: datetime | None = None) -> Poll:
    """Record the electorate (active members) of a poll that has opened, once.

    Runs in its own statement, outside any ballot transaction (it writes the poll row)."""
    now = now or timezone.now()
    if poll.eligible_count is None and now >= poll.opens_at:
        eligible = active_member_count(community_id=poll.community_id)
        Poll.objects.filter(pk=poll.pk, eligible_count__isnull=True).update(eligible_count=eligible)
        poll.eligible_count = eligible
    return poll


def _check_open(poll: Poll, now: datetime) -> None:
    status = poll.status_at(now)
    if status == PollStatus.UPCOMING:
        raise Conflict(
            _("This poll is not open yet; voting starts at its opening time."),
            code="poll_not_open",
        )
    if status == PollStatus.CLOSED:
        raise Conflict(_("This poll has closed; votes are no longer accepted."), code="poll_closed")


def _check_participant(membership: Membership) -> None:
    ensure(membership, Action.PARTICIPATE)


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
    labels = [o["label"] for o in options]
    if len(set(labels)) != len(labels):
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


def _slot_label(starts_at: datetime, ends_at: datetime | None, tz_name: str) -> str:
    from zoneinfo import ZoneInfo

    tz = ZoneInfo(tz_name)
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
    results_visibility: str = ResultsVisibility.ALWAYS,
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
    recorded now. Finalization is scheduled at ``closes_at`` after commit."""
    if not can(actor, Action.CREATE_POLL):
        raise Forbidden(_("You may not create polls in this community."), code="cannot_create_poll")
    community = actor.community
    now = timezone.now()
    opens_at = opens_at or now
    options = [dict(o) for o in (options or [])]
    for option in options:
        option["label"] = (option.get("label") or "").strip()
        if not option["label"] and option.get("starts_at"):
            option["label"] = _slot_label(
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
        _refresh_option_order(poll)
        _schedule_finalize(poll)
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
    "ranked_method",
    "min_selections",
    "max_selections",
    "min_score",
    "max_score",
    "opens_at",
}


def poll_update(*, actor: Membership, poll_id: str, **changes: Any) -> Poll:
    """Edit a poll (author or moderators). The ballot's shape (kind, secrecy, ranges, opening
    time) can change only while nobody has voted; a new closing time of an open poll is
    rescheduled. Closing and reopening have their own services."""
    unknown = set(changes) - EDITABLE_ALWAYS - EDITABLE_BEFORE_VOTES
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    with transaction.atomic():
        poll = _locked_poll(actor, poll_id)
        if not _may_manage(actor, poll):
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
        for name, value in changes.items():
            setattr(poll, name, value)
        if poll.kind == PollKind.SINGLE:
            poll.min_selections = poll.max_selections = 1
        now = timezone.now()
        _validate_settings(
            kind=poll.kind,
            options=[{"label": o.pk} for o in poll.options.all()]
            if poll.kind != PollKind.PROPOSAL
            else [],
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
            check_future="closes_at" in changes and poll.closed_at is None,
        )
        poll.save()
        if "closes_at" in changes:
            _schedule_finalize(poll)
    return poll


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
    fixed answers. The poll row is locked so positions and the limit hold under concurrency."""
    with transaction.atomic():
        poll = _locked_poll(actor, poll_id)
        if not _may_manage(actor, poll):
            if not poll.allow_member_options:
                raise Forbidden(
                    _("This poll does not let members add options."), code="options_closed"
                )
            _check_participant(actor)
        if poll.status == PollStatus.CLOSED:
            raise Conflict(
                _("This poll has closed; options can no longer be added."), code="poll_closed"
            )
        if poll.kind == PollKind.PROPOSAL:
            raise Conflict(
                _("A proposal has fixed answers; options cannot be added."),
                code="options_not_allowed",
            )
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
        label = label.strip()
        if not label and starts_at:
            label = _slot_label(starts_at, ends_at, actor.community.time_zone)
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
        if existing.filter(label=label).exists():
            raise DomainError(
                _("This poll already has an option with that label."),
                code="duplicate_option",
                field="label",
            )
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
        _refresh_option_order(poll)
        return option


def _option_to_manage(actor: Membership, option_id: str) -> tuple[Option, Poll]:
    """The option and its poll (locked) when ``actor`` may change that poll. Call inside a
    transaction."""
    option = Option.objects.filter(pk=option_id, community_id=actor.community_id).first()
    if option is None:
        raise NotFound(_("Option not found."))
    poll = _locked_poll(actor, option.poll_id)
    if not _may_manage(actor, poll):
        raise Forbidden(
            _("Only the author or a moderator can change this poll."), code="cannot_manage"
        )
    return option, poll


def option_update(
    *, actor: Membership, option_id: str, position: int | None = None, **changes: Any
) -> Option:
    """Move an option (``position``) or, while nobody has voted, change its label or slot."""
    with transaction.atomic():
        option, poll = _option_to_manage(actor, option_id)
        changed = {k: v for k, v in changes.items() if getattr(option, k) != v}
        if changed and poll.voter_count:
            raise Conflict(
                _("Members have already voted; options can no longer be renamed."),
                code="poll_has_votes",
            )
        for name, value in changed.items():
            setattr(option, name, value)
        if position is not None:
            option.position = position
        option.save()
        _refresh_option_order(poll)
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
        _refresh_option_order(poll)


# --- ballots -------------------------------------------------------------------------------
@dataclass(frozen=True)
class CastResult:
    """What a cast returns: the stored choices, and for a secret ballot its receipt."""

    choices: dict[str, Any]
    reason: str
    created: bool
    receipt: str | None = None


def ballot_cast(
    *,
    membership: Membership,
    poll: Poll,
    body: dict[str, Any],
    receipt: str | None = None,
) -> CastResult:
    """Cast or replace ``membership``'s ballot in ``poll`` (idempotent: the same body twice
    leaves one ballot with those choices).

    Named polls: one :class:`Ballot` per member (the database constraint decides between two
    concurrent first votes; the loser replaces). Secret polls: the first vote records a
    :class:`Participation` and an anonymous :class:`SecretBallot` and returns a receipt; to
    replace it the member sends that receipt (or, for a safely retryable first vote, a random
    receipt of >= 32 characters they generated). Without the receipt a second vote is refused
    with 409 ``receipt_required``: nothing links the member to their ballot.

    Tallies move in the same transaction and the poll's ``voter_count`` update, taken last,
    guards against voting after close."""
    _check_participant(membership)
    now = timezone.now()
    _check_open(poll, now)
    poll_ensure_eligible(poll=poll, now=now)
    choices = validate_ballot(poll, poll.option_order, body)
    if receipt is not None and not poll.secret:
        raise DomainError(
            _("Only secret ballots use a receipt."), code="receipt_not_allowed", field="receipt"
        )
    with transaction.atomic():
        if not poll.secret:
            return _cast_named(membership, poll, choices, now)
        return _cast_secret(membership, poll, choices, now, receipt)


def _no_change(poll: Poll) -> None:
    if not poll.allow_vote_change:
        raise Conflict(
            _("This poll does not allow changing a vote once cast."), code="vote_change_not_allowed"
        )


def _cast_named(membership: Membership, poll: Poll, choices, now: datetime) -> CastResult:
    if connection.vendor == "postgresql":
        created, old = _upsert_named_pg(membership, poll, choices, now)
    else:
        created, old = _upsert_named_portable(membership, poll, choices, now)
    if created:
        _record(poll, now=now, voters=1, added=choices.keys)
        return CastResult(choices=choices.data, reason=choices.reason, created=True)
    if old["choices"] == choices.data and old["reason"] == choices.reason:
        return CastResult(choices=choices.data, reason=choices.reason, created=False)
    _no_change(poll)  # raising rolls the replacement back
    _record(poll, now=now, voters=0, removed=ballot_keys(poll, old["choices"]), added=choices.keys)
    return CastResult(choices=choices.data, reason=choices.reason, created=False)


def _upsert_named_portable(membership, poll, choices, now) -> tuple[bool, dict | None]:
    """Insert the ballot, or lock and replace it; returns (created, previous choices/reason)."""
    inserted = _insert_once(
        Ballot,
        ("community", "poll", "voter"),
        community=poll.community_id,
        poll=poll.pk,
        voter=membership.user_id,
        choices=choices.data,
        reason=choices.reason,
        created_at=now,
        updated_at=now,
    )
    if inserted:
        return True, None
    old = (
        Ballot.objects.select_for_update()
        .filter(community_id=poll.community_id, poll_id=poll.pk, voter_id=membership.user_id)
        .values("pk", "choices", "reason")
        .get()
    )
    if old["choices"] != choices.data or old["reason"] != choices.reason:
        Ballot.objects.filter(pk=old["pk"]).update(
            choices=choices.data, reason=choices.reason, updated_at=now
        )
    return False, old


_UPSERT_NAMED_SQL = """
WITH old AS (
    SELECT id, choices, reason FROM {t}
    WHERE community_id = %(c)s AND poll_id = %(p)s AND voter_id = %(v)s FOR UPDATE
), ins AS (
    INSERT INTO {t} (community_id, poll_id, voter_id, choices, reason, created_at, updated_at)
    SELECT %(c)s, %(p)s, %(v)s, %(choices)s, %(reason)s, %(now)s, %(now)s
    WHERE NOT EXISTS (SELECT 1 FROM old)
    ON CONFLICT (community_id, poll_id, voter_id) DO NOTHING
    RETURNING id
), upd AS (
    UPDATE {t} AS b SET choices = %(choices)s, reason = %(reason)s, updated_at = %(now)s
    FROM old WHERE b.id = old.id
    RETURNING old.choices, old.reason
)
SELECT (SELECT count(*) FROM ins), (SELECT choices FROM upd), (SELECT reason FROM upd)
"""


def _upsert_named_pg(membership, poll, choices, now) -> tuple[bool, dict | None]:
    """PostgreSQL: insert or replace the member's ballot in one statement and return the
    previous choices (locked by ``FOR UPDATE`` first, so they are the ones being replaced). If
    a concurrent first vote of the same member was not yet visible, the insert waits for it and
    does nothing; the statement is then run again and replaces that ballot."""
    field = Ballot._meta.get_field("choices")
    sql = _UPSERT_NAMED_SQL.format(t=connection.ops.quote_name(Ballot._meta.db_table))
    params = {
        "c": poll.community_id,
        "p": poll.pk,
        "v": membership.user_id,
        "choices": field.get_db_prep_save(choices.data, connection),
        "reason": choices.reason,
        "now": now,
    }
    for _attempt in range(3):
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            inserted, old_choices, old_reason = cursor.fetchone()
        if inserted:
            return True, None
        if old_choices is not None:
            if not isinstance(old_choices, dict):
                old_choices = field.from_db_value(old_choices, None, connection)
            return False, {"choices": old_choices, "reason": old_reason}
    raise Conflict(_("Your ballot changed meanwhile; please try again."), code="retry")


def _receipt_required() -> Conflict:
    return Conflict(
        _(
            "You have already voted in this secret poll. To change or withdraw your vote, send "
            "the receipt you received when you voted; without it your vote stays as cast."
        ),
        code="receipt_required",
    )


def _cast_secret(
    membership: Membership, poll: Poll, choices, now: datetime, receipt: str | None
) -> CastResult:

    scope = {"community_id": poll.community_id, "poll_id": poll.pk}
    if receipt is not None:
        digest = hash_receipt(receipt)
        secret_ballot = (
            SecretBallot.objects.select_for_update()
            .filter(**scope, receipt_hash=digest)
            .values("pk", "choices")
            .first()
        )
        if secret_ballot is None and len(receipt) < RECEIPT_MIN_LENGTH:
            raise DomainError(
                _("A receipt you choose yourself must have at least %(n)d random characters.")
                % {"n": RECEIPT_MIN_LENGTH},
                code="receipt_too_short",
                field="receipt",
            )
    else:
        receipt = secrets.token_urlsafe(32)
        digest = hash_receipt(receipt)
        secret_ballot = None

    if secret_ballot is None:
        participated = not _insert_once(
            Participation,
            ("community", "poll", "user"),
            community=poll.community_id,
            poll=poll.pk,
            user=membership.user_id,
            voted_at=now,
        )
        if participated:
            raise _receipt_required()
        SecretBallot.objects.create(**scope, choices=choices.data, receipt_hash=digest)
        _record(poll, now=now, voters=1, added=choices.keys)
        return CastResult(choices=choices.data, reason="", created=True, receipt=receipt)

    # Replacing: the receipt finds the ballot; the member must have taken part themselves.
    if not Participation.objects.filter(**scope, user_id=membership.user_id).exists():
        raise Conflict(
            _("This receipt does not belong to a vote of yours."), code="receipt_not_yours"
        )
    if secret_ballot["choices"] != choices.data:
        _no_change(poll)
        SecretBallot.objects.filter(pk=secret_ballot["pk"]).update(choices=choices.data)
        _record(
            poll,
            now=now,
            voters=0,
            removed=ballot_keys(poll, secret_ballot["choices"]),
            added=choices.keys,
        )
    return CastResult(choices=choices.data, reason="", created=False, receipt=receipt)


def ballot_withdraw(*, membership: Membership, poll: Poll, receipt: str | None = None) -> None:
    """Withdraw ``membership``'s ballot (allowed while open and when votes may change).

    Secret polls need the receipt; the participation goes with the ballot, so the member may
    vote again. Withdrawing when there is no ballot is a no-op (DELETE is idempotent)."""

    _check_participant(membership)
    now = timezone.now()
    _check_open(poll, now)
    scope = {"community_id": poll.community_id, "poll_id": poll.pk}
    with transaction.atomic():
        if not poll.secret:
            ballot = (
                Ballot.objects.select_for_update()
                .filter(**scope, voter_id=membership.user_id)
                .values("pk", "choices")
                .first()
            )
            if ballot is None:
                return
            _no_change(poll)
            Ballot.objects.filter(pk=ballot["pk"]).delete()
        else:
            participation = (
                Participation.objects.select_for_update()
                .filter(**scope, user_id=membership.user_id)
                .first()
            )
            if participation is None:
                return
            if not receipt:
                raise _receipt_required()
            ballot = (
                SecretBallot.objects.select_for_update()
                .filter(**scope, receipt_hash=hash_receipt(receipt))
                .values("pk", "choices")
                .first()
            )
            if ballot is None:
                raise Conflict(
                    _("This receipt does not match a ballot of this poll."),
                    code="receipt_unknown",
                )
            _no_change(poll)
            participation.delete()
            SecretBallot.objects.filter(pk=ballot["pk"]).delete()
        _record(poll, now=now, voters=-1, removed=ballot_keys(poll, ballot["choices"]))


# --- close, reopen, finalize ---------------------------------------------------------------
def poll_close(*, actor: Membership, poll_id: str) -> Poll:
    """Close a poll now (its author or a moderator); results are finalized after commit."""
    with transaction.atomic():
        poll = _locked_poll(actor, poll_id)
        if not _may_manage(actor, poll):
            raise Forbidden(
                _("Only the author or a moderator can close this poll."), code="cannot_manage"
            )
        if poll.status == PollStatus.CLOSED:
            raise Conflict(_("This poll is already closed."), code="poll_closed")
        poll.closed_at = timezone.now()
        poll.save(update_fields=["closed_at"])
        _schedule_finalize(poll)
    return poll


def poll_reopen(*, actor: Membership, poll_id: str, closes_at: datetime | None = None) -> Poll:
    """Reopen a closed poll (its author or a moderator), clearing the frozen results.

    The closing time must lie in the future: keep the old one if it still does, else give a new
    one. Members are notified of the final close only once (the outbox key), even after a
    reopen and second close."""
    now = timezone.now()
    with transaction.atomic():
        poll = _locked_poll(actor, poll_id)
        if not _may_manage(actor, poll):
            raise Forbidden(
                _("Only the author or a moderator can reopen this poll."), code="cannot_manage"
            )
        if poll.status != PollStatus.CLOSED:
            raise Conflict(_("This poll is not closed."), code="poll_not_closed")
        new_close = closes_at or poll.closes_at
        if new_close <= now or new_close <= poll.opens_at:
            raise DomainError(
                _("Give a new closing time in the future to reopen this poll."),
                code="closes_in_past",
                field="closes_at",
            )
        poll.closed_at = None
        poll.closes_at = new_close
        poll.final_results = None
        poll.finalized_at = None
        poll.save(update_fields=["closed_at", "closes_at", "final_results", "finalized_at"])
        _schedule_finalize(poll)
    return poll


def poll_finalize(*, poll_id: str, now: datetime | None = None) -> bool:
    """Freeze the final results of a closed poll and notify its author and voters, once.

    Safe to run any number of times and concurrently: the poll row is locked and a poll that is
    not closed yet or already finalized is left alone; notifications are deduplicated by the
    outbox key ``poll:<id>``. Returns True when this call finalized the poll."""
    now = now or timezone.now()
    with transaction.atomic():
        poll = Poll.objects.select_for_update().filter(pk=poll_id).first()
        if (
            poll is None
            or poll.finalized_at is not None
            or poll.status_at(now) != PollStatus.CLOSED
        ):
            return False
        options = _option_ids(poll)
        poll.final_results = compute_results(poll, options, tallies_of(poll))
        poll.finalized_at = now
        if poll.eligible_count is None and poll.opens_at <= now:
            poll.eligible_count = active_member_count(community_id=poll.community_id)
        poll.save(update_fields=["final_results", "finalized_at", "eligible_count"])
        scope = {"community_id": poll.community_id, "poll_id": poll.pk}
        voter_ids = (
            Participation.objects.filter(**scope).values("user_id")
            if poll.secret
            else Ballot.objects.filter(**scope).values("voter_id")
        )
        recipients = User.objects.filter(pk__in=voter_ids) | User.objects.filter(pk=poll.author_id)
        community = poll.community
        data = {"thing1": poll.title[:20], "phrase2": _("Closed")}
        for user in recipients.distinct():
            notification_enqueue(
                community=community,
                recipient=user,
                kind=NOTIFY_CLOSED,
                object_key=poll_object_key(poll.pk),
                data=data,
                page=f"pages/polls/detail?id={poll.pk}",
            )
    logger.info("poll %s finalized", poll_id)
    return True


def polls_due_for_finalize(*, now: datetime | None = None, limit: int = 200) -> list[str]:
    """Closed polls without frozen results (for the periodic sweep)."""
    return list(
        Poll.objects.with_status(PollStatus.CLOSED, now)
        .filter(finalized_at__isnull=True)
        .order_by("closes_at")
        .values_list("pk", flat=True)[:limit]
    )


def polls_record_eligible(*, now: datetime | None = None) -> int:
    """Record the electorate of polls that opened without one yet (sweep)."""
    now = now or timezone.now()
    polls = Poll.objects.filter(eligible_count__isnull=True, opens_at__lte=now)[:200]
    for poll in polls:
        poll_ensure_eligible(poll=poll, now=now)
    return len(polls)


def _non_voter_memberships(poll: Poll):
    scope = {"community_id": poll.community_id, "poll_id": poll.pk}
    voted = (
        Participation.objects.filter(**scope, user_id=OuterRef("user_id"))
        if poll.secret
        else Ballot.objects.filter(**scope, voter_id=OuterRef("user_id"))
    )
    return Membership.objects.filter(
        community_id=poll.community_id, status=MembershipStatus.ACTIVE
    ).exclude(Exists(voted))


def poll_remind(*, poll_id: str, now: datetime | None = None) -> int:
    """Queue a reminder for every active member who has not voted in an open poll.

    The poll row is locked while reminders are queued, so a close waits and no reminder is
    queued after it; the outbox key makes it once per member and poll. Returns how many were
    queued now."""
    now = now or timezone.now()
    queued = 0
    with transaction.atomic():
        poll = (
            Poll.objects.select_for_update().select_related("community").filter(pk=poll_id).first()
        )
        if poll is None or poll.status_at(now) != PollStatus.OPEN:
            return 0
        data = {
            "thing1": poll.title[:20],
            "time2": timezone.localtime(poll.closes_at).strftime("%Y-%m-%d %H:%M"),
        }
        for membership in _non_voter_memberships(poll).select_related("user"):
            if notification_enqueue(
                community=poll.community,
                recipient=membership.user,
                kind=NOTIFY_REMINDER,
                object_key=poll_object_key(poll.pk),
                data=data,
                page=f"pages/polls/detail?id={poll.pk}",
            ):
                queued += 1
    return queued


def polls_remind_due(*, now: datetime | None = None) -> int:
    """Sweep: remind non-voters of open polls whose reminder window has started."""
    now = now or timezone.now()
    candidates = (
        Poll.objects.with_status(PollStatus.OPEN, now)
        .filter(reminder_hours__gt=0, closes_at__lte=now + timedelta(hours=MAX_REMINDER_HOURS))
        .values_list("pk", "closes_at", "reminder_hours")
    )
    queued = 0
    for poll_id, closes_at, hours in candidates:
        if closes_at - timedelta(hours=hours) <= now:
            queued += poll_remind(poll_id=poll_id, now=now)
    return queued
