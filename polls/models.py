"""Group polls: the poll, its options, ballots (named or secret) and the running tallies.

Every table carries ``community_id`` and every unique constraint includes it, so the schema can
be distributed by community later (Citus) without a rewrite.

Results are read from :class:`Tally` rows only, never by scanning ballots: casting, replacing or
withdrawing a ballot moves the affected tallies by one in the same transaction. The cost of
reading results therefore depends on the number of distinct ballot shapes, not on the number of
voters (a ranked poll with 5 options has at most 325 distinct rankings, whether 10 or 100,000
members voted).
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from community.ids import PublicIdField

MAX_OPTIONS = 50
# A ranked tally key is the ranking joined by ">" (12-char ids + separators).
TALLY_KEY_MAX = MAX_OPTIONS * 17


class PollKind(models.TextChoices):
    SINGLE = "single", _("Single choice")
    MULTIPLE = "multiple", _("Multiple choice")
    RANKED = "ranked", _("Ranked choice")
    SCORE = "score", _("Score")
    PROPOSAL = "proposal", _("Proposal")
    TIME = "time", _("Time poll (scheduling)")


class RankedMethod(models.TextChoices):
    IRV = "irv", _("Instant runoff")
    BORDA = "borda", _("Borda count")


class ResultsVisibility(models.TextChoices):
    ALWAYS = "always", _("Always")
    AFTER_VOTE = "after_vote", _("After I voted")
    AFTER_CLOSE = "after_close", _("After the poll closed")


class PollStatus(models.TextChoices):
    UPCOMING = "upcoming", _("Upcoming")
    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed")


class PollQuerySet(models.QuerySet):
    """Status filters computed from the clock, so they never depend on a worker."""

    def with_status(self, status: str, now: datetime | None = None) -> PollQuerySet:
        now = now or timezone.now()
        if status == PollStatus.OPEN:
            return self.filter(closed_at__isnull=True, opens_at__lte=now, closes_at__gt=now)
        if status == PollStatus.CLOSED:
            return self.filter(Q(closed_at__isnull=False) | Q(closes_at__lte=now))
        if status == PollStatus.UPCOMING:
            return self.filter(closed_at__isnull=True, opens_at__gt=now, closes_at__gt=now)
        raise ValueError(f"unknown status {status!r}")


class Poll(models.Model):
    """A question put to the members of one community.

    ``kind`` decides the ballot's shape and the counting method (see ``polls.counting``). The
    poll is *upcoming* before ``opens_at``, *open* until ``closes_at`` and *closed* after it or
    once ``closed_at`` is set by an early close; :attr:`status` is computed from these
    timestamps when read, so a poll is closed on time even if no worker ran.

    Named polls keep one :class:`Ballot` per member. Secret polls keep who took part
    (:class:`Participation`) apart from what was chosen (:class:`SecretBallot`), see there.

    ``eligible_count`` is the number of active members when the poll opened (set at creation
    when it opens at once, else on first use after ``opens_at``); turnout is
    ``voter_count / electorate`` (:attr:`electorate`: that count, or the voters when members
    who joined later voted too), never above 100%. ``final_results`` is frozen once after the poll closed:
    by the first request that reads it or by the finalize task, whichever comes first. The
    close notifications are queued once, by the finalize task (``close_notified_at``).

    A ballot is validated against a copy of the poll read without a lock; ``shape_version``
    lets the ballot's last statement (``tally_store.tally_record``) check that the copy's
    shape is still the poll's, so an edit of the kind or options that commits meanwhile
    refuses the vote instead of leaving a ballot of the old shape."""

    #: Moderation kind: a held one shows only to its author and moderators (``authz``).
    hold_kind = "poll"

    id = PublicIdField()
    community = models.ForeignKey(
        "community.Community", on_delete=models.CASCADE, related_name="polls"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="polls_authored",
    )
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True, default="")
    kind = models.CharField(_("kind"), max_length=16, choices=PollKind.choices)
    ranked_method = models.CharField(
        _("ranked-choice count"),
        max_length=8,
        choices=RankedMethod.choices,
        default=RankedMethod.IRV,
        help_text=_("Ranked polls only: the official count (the other is shown as well)."),
    )
    min_selections = models.PositiveSmallIntegerField(_("minimum selections"), default=1)
    max_selections = models.PositiveSmallIntegerField(_("maximum selections"), default=1)
    min_score = models.SmallIntegerField(_("lowest score"), default=0)
    max_score = models.SmallIntegerField(_("highest score"), default=5)
    allow_member_options = models.BooleanField(_("members may add options"), default=False)
    secret = models.BooleanField(
        _("secret ballot"),
        default=False,
        help_text=_("Nobody, not even a database administrator, can see how a member voted."),
    )
    results_visibility = models.CharField(
        _("results visible"),
        max_length=16,
        choices=ResultsVisibility.choices,
        default=ResultsVisibility.ALWAYS,
    )
    allow_vote_change = models.BooleanField(_("members may change their vote"), default=True)
    min_ballots_to_show = models.PositiveSmallIntegerField(
        _("ballots needed before counts show"),
        default=3,
        help_text=_("Secret polls only: counts stay hidden until this many ballots are in."),
    )
    publish_ballot_box = models.BooleanField(
        _("publish the ballot box after close"),
        default=False,
        help_text=_(
            "Secret polls only, chosen before the first vote: after close the author may "
            "publish every ballot (shuffled, each with a tag only its voter can compute), so "
            "anyone can recount. A published box lets a voter show others how they voted."
        ),
    )
    quorum_percent = models.PositiveSmallIntegerField(_("quorum (% turnout)"), default=0)
    voters_visible = models.BooleanField(
        _("members may see who voted"),
        default=False,
        help_text=_("Named polls only."),
    )
    opens_at = models.DateTimeField(_("opens at"), default=timezone.now)
    closes_at = models.DateTimeField(_("closes at"))
    closed_at = models.DateTimeField(_("closed early at"), null=True, blank=True)
    reminder_hours = models.PositiveSmallIntegerField(
        _("reminder (hours before close)"),
        default=24,
        help_text=_("0 sends no reminder."),
    )
    option_order = models.JSONField(
        _("option ids in order"),
        default=list,
        editable=False,
        help_text=_("Kept by the option services, so a vote validates without reading options."),
    )
    shape_version = models.PositiveIntegerField(
        _("ballot shape version"),
        default=0,
        editable=False,
        help_text=_(
            "Bumped by every change that can make a validated ballot invalid (kind, secrecy, "
            "ranges, an option removed); a vote checks it in its guarded statement."
        ),
    )
    eligible_count = models.PositiveIntegerField(_("eligible members"), null=True, blank=True)
    voter_count = models.PositiveIntegerField(_("voters"), default=0)
    final_results = models.JSONField(_("final results"), null=True, blank=True, editable=False)
    finalized_at = models.DateTimeField(_("finalized at"), null=True, blank=True, editable=False)
    close_notified_at = models.DateTimeField(
        _("close notifications queued at"), null=True, blank=True, editable=False
    )
    box_published_at = models.DateTimeField(
        _("ballot box published at"), null=True, blank=True, editable=False
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    objects = PollQuerySet.as_manager()

    class Meta:
        verbose_name = _("poll")
        verbose_name_plural = _("polls")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(closes_at__gt=models.F("opens_at")), name="poll_closes_after_opening"
            ),
            models.CheckConstraint(
                condition=Q(min_selections__gte=1, min_selections__lte=models.F("max_selections")),
                name="poll_selections_range_valid",
            ),
            models.CheckConstraint(
                condition=Q(min_score__lt=models.F("max_score")), name="poll_score_range_valid"
            ),
            models.CheckConstraint(
                condition=Q(quorum_percent__gte=0, quorum_percent__lte=100),
                name="poll_quorum_percent_valid",
            ),
            models.CheckConstraint(
                condition=Q(voter_count__gte=0), name="poll_voter_count_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(min_ballots_to_show__gte=1), name="poll_min_ballots_positive"
            ),
            models.CheckConstraint(
                condition=Q(secret=False) | Q(voters_visible=False),
                name="poll_secret_voters_never_visible",
            ),
            models.CheckConstraint(
                condition=Q(secret=True) | Q(publish_ballot_box=False),
                name="poll_box_publication_needs_secret",
            ),
            models.CheckConstraint(
                condition=Q(publish_ballot_box=True) | Q(box_published_at__isnull=True),
                name="poll_box_published_only_when_chosen",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=[k.value for k in PollKind]), name="poll_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(results_visibility__in=[v.value for v in ResultsVisibility]),
                name="poll_results_visibility_valid",
            ),
        ]
        indexes = [
            models.Index(fields=["community", "-created_at"], name="poll_community_feed"),
            models.Index(fields=["closes_at", "finalized_at"], name="poll_closing"),
        ]

    def __str__(self) -> str:
        return self.title

    def status_at(self, now: datetime) -> str:
        if self.closed_at is not None or now >= self.closes_at:
            return PollStatus.CLOSED
        if now < self.opens_at:
            return PollStatus.UPCOMING
        return PollStatus.OPEN

    @property
    def status(self) -> str:
        """upcoming / open / closed, from the timestamps and the clock."""
        return self.status_at(timezone.now())

    @property
    def electorate(self) -> int | None:
        """Who may take part, as turnout counts them: the members active when the poll opened
        (``eligible_count``), grown to the number of voters when members who joined after the
        opening voted too (they may: eligibility is checked at vote time). So turnout never
        passes 100%. Null while the poll has not opened."""
        if self.eligible_count is None:
            return None
        return max(self.eligible_count, self.voter_count)

    @property
    def turnout_percent(self) -> float | None:
        if not self.electorate:
            return None
        return round(100 * self.voter_count / self.electorate, 1)

    @property
    def quorum_met(self) -> bool | None:
        """Whether turnout reached the quorum; None while the electorate is not known."""
        if not self.quorum_percent:
            return True
        if self.electorate is None:
            return None
        return self.voter_count * 100 >= self.quorum_percent * self.electorate


class Option(models.Model):
    """One answer a member can pick, rank or score; for time polls a time slot.

    ``position`` orders the options (drag and drop in the admin) and settles ties nothing else
    settles. ``starts_at``/``ends_at`` are set for time slots and shown in the community's time
    zone. ``added_by`` is set when a member added it (polls that allow it)."""

    id = PublicIdField()
    community = models.ForeignKey("community.Community", on_delete=models.CASCADE, related_name="+")
    poll = models.ForeignKey(Poll, on_delete=models.CASCADE, related_name="options")
    label = models.CharField(_("label"), max_length=200)
    position = models.PositiveIntegerField(_("position"), default=0, db_index=True)
    starts_at = models.DateTimeField(_("starts at"), null=True, blank=True)
    ends_at = models.DateTimeField(_("ends at"), null=True, blank=True)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("option")
        verbose_name_plural = _("options")
        ordering = ["position", "created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["community", "poll", "label"], name="option_label_unique_in_poll"
            ),
            models.CheckConstraint(
                condition=Q(ends_at__isnull=True)
                | Q(starts_at__isnull=False, ends_at__gt=models.F("starts_at")),
                name="option_slot_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return self.label


class Ballot(models.Model):
    """A member's ballot in a *named* poll: who chose what, replaceable until close.

    ``choices`` holds the normalised body (``{"option_ids": [...]}``, ``{"ranking": [...]}``,
    ``{"scores": {...}}``, ``{"position": ...}`` or ``{"answers": {...}}``); ``reason`` is the
    optional reason of a proposal answer. One per member and poll, enforced by the database."""

    community = models.ForeignKey(
        "community.Community", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    poll = models.ForeignKey(Poll, on_delete=models.CASCADE, related_name="ballots")
    voter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="poll_ballots"
    )
    choices = models.JSONField(_("choices"))
    reason = models.CharField(_("reason"), max_length=500, blank=True, default="")
    created_at = models.DateTimeField(_("cast at"), default=timezone.now)
    updated_at = models.DateTimeField(_("changed at"), default=timezone.now)

    class Meta:
        verbose_name = _("ballot")
        verbose_name_plural = _("ballots")
        constraints = [
            models.UniqueConstraint(
                fields=["community", "poll", "voter"], name="ballot_one_per_member_and_poll"
            )
        ]

    def __str__(self) -> str:
        return f"ballot of {self.voter_id} in {self.poll_id}"


class Participation(models.Model):
    """That a member took part in a *secret* poll, and when. It says nothing about the choice.

    Participation is not secret: moderators see who has not voted yet, and reminders skip those
    who took part. One per member and poll, enforced by the database."""

    community = models.ForeignKey(
        "community.Community", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    poll = models.ForeignKey(Poll, on_delete=models.CASCADE, related_name="participations")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="poll_participations"
    )
    voted_at = models.DateTimeField(_("voted at"), default=timezone.now)

    class Meta:
        verbose_name = _("participation")
        verbose_name_plural = _("participations")
        constraints = [
            models.UniqueConstraint(
                fields=["community", "poll", "user"], name="participation_one_per_member_and_poll"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user_id} took part in {self.poll_id}"


class SecretBallot(models.Model):
    """The anonymous ballot of a *secret* poll: the choices and nothing that points to a person.

    There is no user column, no timestamp and the primary key is random (not a sequence), so no
    row, column or ordering links a member to their choices; who took part is recorded apart,
    in :class:`Participation`. Nor is it written by the voter's transaction: the vote seals the
    ballot into the :class:`BoxEntry` box, and the mixing step writes these rows a batch of at
    least ``min_ballots_to_show`` at a time, in random order, in one transaction, so neither
    their transaction id, their physical order nor the live tallies point at a voter.

    "Change my vote" for secret ballots: casting returns a one-time *receipt* (a random token
    the mini-program keeps in wx storage); only its SHA-256 hash is stored here. Whoever presents
    the receipt may replace or withdraw this ballot. Without the receipt the vote stays as cast
    (409): that is the price of nobody, not even a database administrator, being able to find a
    member's ballot. Limits of the guarantee: it is about stored data without the application's
    secrets (``BALLOT_KEY`` opens waiting box entries); WAL, statement logs if enabled and dead
    row versions not yet vacuumed are outside what a schema can hide and must be protected by
    operations. The last batch, mixed at close, may hold fewer than k ballots."""

    id = PublicIdField()
    community = models.ForeignKey(
        "community.Community", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    poll = models.ForeignKey(Poll, on_delete=models.CASCADE, related_name="secret_ballots")
    choices = models.JSONField(_("choices"))
    receipt_hash = models.CharField(_("receipt (SHA-256)"), max_length=64)
    # Polls with ``publish_ballot_box`` only: the ballot's public tag (``polls.recount.
    # ballot_tag``, computed from the receipt when it was cast), sealed like a box entry, so a
    # reader of the database cannot pair this row with its published ballot.
    sealed_tag = models.BinaryField(_("sealed public tag"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("secret ballot")
        verbose_name_plural = _("secret ballots")
        constraints = [
            models.UniqueConstraint(
                fields=["community", "poll", "receipt_hash"], name="secretballot_receipt_unique"
            )
        ]

    def __str__(self) -> str:
        return f"secret ballot in {self.poll_id}"


class BoxEntry(models.Model):
    """A sealed entry of a secret poll's ballot box, waiting to be mixed.

    The voter's transaction writes the ballot here, encrypted (AES-GCM, a key derived from
    ``BALLOT_KEY`` and the poll id) and padded to a fixed size, under a random id: a cast, a
    change or a withdrawal, naming the ballot by the hash of its receipt inside the sealed part
    only. A ballot has at most one waiting entry, holding its whole new state: a second change
    before the mix replaces the first in place (``tag``, unique per poll, is a keyed hash of the
    receipt's hash: the voter's request finds their waiting entry without opening any other,
    and without ``BALLOT_KEY`` the tag does not lead to the mixed ballot's ``receipt_hash``). The row is written in the same transaction as the member's :class:`Participation`
    (same transaction id, neighbouring physical place), so nothing readable may be in it. The
    mixing step (``polls.services.mixing``) opens a batch of at least ``min_ballots_to_show``
    entries, applies them in random order to :class:`SecretBallot` and :class:`Tally` in one
    transaction and deletes them."""

    id = PublicIdField()
    # No index of their own: the unique (community, poll, tag) index serves every query of the
    # box (count, read, look-up), and a poll's or community's deletion scans a small queue.
    community = models.ForeignKey(
        "community.Community", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    poll = models.ForeignKey(
        Poll, on_delete=models.CASCADE, related_name="box_entries", db_index=False
    )
    tag = models.CharField(_("look-up tag"), max_length=64)
    sealed = models.BinaryField(_("sealed entry"))

    class Meta:
        verbose_name = _("ballot box entry")
        verbose_name_plural = _("ballot box entries")
        constraints = [
            models.UniqueConstraint(
                fields=["community", "poll", "tag"], name="boxentry_one_per_ballot"
            )
        ]

    def __str__(self) -> str:
        return f"sealed entry in {self.poll_id}"


class BallotBoxPublication(models.Model):
    """The published ballot box of a closed secret poll whose author chose, before the first
    vote, to allow it (``Poll.publish_ballot_box``): every final ballot in a fresh shuffled
    order, each with its public tag, plus what counting needs and the published result.

    Anyone can recount it (``polls.recount.recount``, ``manage.py poll_recount``) and check the
    result; a voter finds their own ballot by the tag they compute from their receipt. The tag
    is not the ``SecretBallot.receipt_hash`` and cannot be derived from it, and the order is
    drawn anew, so the publication adds no link between a member and a ballot for someone
    reading the database. Written once (one per poll); a poll whose box is published cannot be
    reopened (a second publication would show which ballots changed in between)."""

    id = PublicIdField()
    community = models.ForeignKey("community.Community", on_delete=models.CASCADE, related_name="+")
    poll = models.ForeignKey(Poll, on_delete=models.CASCADE, related_name="box_publications")
    published_at = models.DateTimeField(_("published at"))
    counting = models.JSONField(_("counting parameters"))
    ballots = models.JSONField(_("ballots"))
    result = models.JSONField(_("published result"))

    class Meta:
        verbose_name = _("published ballot box")
        verbose_name_plural = _("published ballot boxes")
        constraints = [
            models.UniqueConstraint(
                fields=["community", "poll"], name="ballot_box_published_once_per_poll"
            )
        ]

    def __str__(self) -> str:
        return f"published ballot box of {self.poll_id}"


class Tally(models.Model):
    """A running count of one ballot shape in one poll; results are computed from these rows.

    ``key`` per kind: single/multiple → an option id; ranked → the whole ranking
    ``"id1>id2>..."``; score → ``"optionid:score"``; proposal → the position; time →
    ``"optionid:answer"``. Ballot writes move the counts by one in the same transaction."""

    community = models.ForeignKey(
        "community.Community", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    poll = models.ForeignKey(Poll, on_delete=models.CASCADE, related_name="tallies")
    key = models.CharField(_("key"), max_length=TALLY_KEY_MAX)
    count = models.IntegerField(_("count"), default=0)

    class Meta:
        verbose_name = _("tally")
        verbose_name_plural = _("tallies")
        constraints = [
            models.UniqueConstraint(
                fields=["community", "poll", "key"], name="tally_one_row_per_key"
            ),
            models.CheckConstraint(condition=Q(count__gte=0), name="tally_count_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.key}: {self.count}"
