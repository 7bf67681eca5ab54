"""Verifiable lucky draws: a draw of a community, its prizes, who joined, the frozen entry
list, the rounds (one commitment each) and the winners.

How a draw stays verifiable (procedure ``wxc-draw/v1`` in :mod:`games.verify`): each round's
seed is drawn at random and only its commitment (SHA-256) is published before the round is
drawn; the seed is stored sealed (``community.sealing``, a key derived from ``BALLOT_KEY``), so
someone reading the database before the reveal cannot predict the winners. When entries close
the list of pseudonymous entry ids is frozen with its hash; the winners follow from the seed and
the list; the seed is revealed with the result."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from community.ids import OpaqueCharField, PublicIdField
from community.models import Community

TITLE_MAX = 60
PRIZE_NAME_MAX = 40
CLAIM_HOURS_MAX = 720
#: The highest ``min_points`` a quiz-fed draw accepts (far above any quiz's maximum score).
MIN_POINTS_MAX = 100_000


class DrawSource(models.TextChoices):
    """Who may enter a draw (``games.sources.SOURCES`` says how each is read)."""

    MEMBERS = "members", _("Every active member")
    POLL_VOTERS = "poll_voters", _("The voters of a poll")
    SURVEY_RESPONDENTS = "survey_respondents", _("The respondents of a named survey")
    EVENT_CONFIRMED = "event_confirmed", _("The confirmed attendees of an event")
    EVENT_CHECKED_IN = "event_checked_in", _("The checked-in attendees of an event")
    JOINED = "joined", _("Members who joined the draw")
    QUIZ_SCORERS = "quiz_scorers", _("Members who scored at least N points in a quiz")


#: Sources that name no object (``source_id`` stays empty).
SOURCES_WITHOUT_OBJECT = (DrawSource.MEMBERS, DrawSource.JOINED)


class DrawStatus(models.TextChoices):
    OPEN = "open", _("Open for entries")
    CLOSED = "closed", _("Entries closed, not drawn yet")
    DRAWN = "drawn", _("Drawn")


class Draw(models.Model):
    """A lucky draw of a community. Entries come from ``source`` (``source_id`` names the poll,
    survey, quiz or event; a quiz's members enter with at least ``min_points``) minus the
    exclusions, and close at ``closes_at`` (or when the organizer draws early). Its status
    follows from the clock and ``drawn_at`` when read. ``drawn_at`` is set once, under the draw row's lock, by the one transaction that freezes the entry list
    (``entries_hash``) and draws round 1."""

    id = PublicIdField()
    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="+")
    organizer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("organizer"),
    )
    title = models.CharField(_("title"), max_length=TITLE_MAX)
    source = models.CharField(_("who may enter"), max_length=20, choices=DrawSource.choices)
    source_id = OpaqueCharField(_("poll, survey or event id"), max_length=16, blank=True)
    exclude_organizer = models.BooleanField(_("exclude the organizer"), default=True)
    exclude_recent_winners_days = models.PositiveSmallIntegerField(
        _("exclude winners of the last days"), default=0
    )
    min_points = models.PositiveIntegerField(
        _("minimum quiz points"),
        default=0,
        help_text=_("Quiz-fed draws: members with at least this many points enter."),
    )
    excluded_user_ids = models.JSONField(_("excluded members (user ids)"), default=list, blank=True)
    closes_at = models.DateTimeField(_("entries close at"))
    claim_hours = models.PositiveSmallIntegerField(_("claim window (hours)"), default=72)
    entries_hash = models.CharField(_("entry list hash"), max_length=64, blank=True)
    entry_count = models.PositiveIntegerField(_("entries"), default=0)
    drawn_at = models.DateTimeField(_("drawn at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("lucky draw")
        verbose_name_plural = _("lucky draws")
        ordering = ["-created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(source__in=[s.value for s in SOURCES_WITHOUT_OBJECT], source_id="")
                    | (~Q(source__in=[s.value for s in SOURCES_WITHOUT_OBJECT]) & ~Q(source_id=""))
                ),
                name="draw_source_object_when_needed",
            ),
            models.CheckConstraint(
                condition=Q(claim_hours__gte=1, claim_hours__lte=CLAIM_HOURS_MAX),
                name="draw_claim_hours_range",
            ),
            models.CheckConstraint(
                # Only a quiz-fed draw has a bar; every other source keeps 0.
                condition=Q(source=DrawSource.QUIZ_SCORERS.value) | Q(min_points=0),
                name="draw_min_points_only_for_quiz",
            ),
            models.CheckConstraint(
                condition=Q(min_points__lte=MIN_POINTS_MAX), name="draw_min_points_range"
            ),
            models.CheckConstraint(
                condition=Q(drawn_at__isnull=True) | ~Q(entries_hash=""),
                name="draw_drawn_has_entry_list",
            ),
        ]
        indexes = [
            models.Index(fields=["community", "-created_at"]),
            models.Index(fields=["closes_at"], condition=Q(drawn_at__isnull=True), name="draw_due"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def status(self) -> str:
        """The status now (computed from the clock)."""
        return self.status_at(timezone.now())

    def status_at(self, now: datetime) -> str:
        if self.drawn_at is not None:
            return DrawStatus.DRAWN
        if self.closes_at <= now:
            return DrawStatus.CLOSED
        return DrawStatus.OPEN


class Prize(models.Model):
    """A prize of a draw: ``quantity`` of them are drawn (1 first prize, 3 second prizes);
    ``position`` orders them, first prize first (the procedure fills them in that order)."""

    id = PublicIdField()
    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="+")
    draw = models.ForeignKey(Draw, on_delete=models.CASCADE, related_name="prizes")
    position = models.PositiveSmallIntegerField(_("position"))
    name = models.CharField(_("name"), max_length=PRIZE_NAME_MAX)
    quantity = models.PositiveSmallIntegerField(_("quantity"))

    class Meta:
        verbose_name = _("prize")
        verbose_name_plural = _("prizes")
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(
                fields=["community", "draw", "position"], name="prize_position_unique"
            ),
            models.CheckConstraint(
                condition=Q(quantity__gte=1, quantity__lte=100), name="prize_quantity_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} x{self.quantity}"


class DrawJoin(models.Model):
    """A member pressed "join the draw" (draws whose source is ``joined``), before it closed."""

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="+")
    draw = models.ForeignKey(Draw, on_delete=models.CASCADE, related_name="joins")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    joined_at = models.DateTimeField(_("joined at"), default=timezone.now)

    class Meta:
        verbose_name = _("draw join")
        verbose_name_plural = _("draw joins")
        constraints = [
            models.UniqueConstraint(
                fields=["community", "draw", "user"], name="drawjoin_one_per_member"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user_id} joined {self.draw_id}"


class Entry(models.Model):
    """One line of a draw's frozen entry list: the member's pseudonymous ``entry_id`` (a
    per-draw keyed hash of their user id: the list says not who is who, each member finds
    their own). Written once, when entries close."""

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="+")
    draw = models.ForeignKey(Draw, on_delete=models.CASCADE, related_name="entries")
    entry_id = OpaqueCharField(_("entry id"), max_length=16)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")

    class Meta:
        verbose_name = _("draw entry")
        verbose_name_plural = _("draw entries")
        ordering = ["entry_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["community", "draw", "entry_id"], name="entry_id_unique_in_draw"
            ),
            models.UniqueConstraint(
                fields=["community", "draw", "user"], name="entry_one_per_member"
            ),
        ]

    def __str__(self) -> str:
        return self.entry_id


class DrawRound(models.Model):
    """One round of a draw: round 1 draws every prize, each later round redraws the prizes
    forfeited in the round before. Its seed is chosen and committed (``commitment``) when the
    round is created, before anything it decides is known; it is kept sealed
    (``sealed_seed``) until the round is drawn, then revealed in ``seed``. ``slots`` (prize id
    and count, in prize order) and ``excluded`` (entry ids of earlier winners) are what the
    procedure fills and skips."""

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="+")
    draw = models.ForeignKey(Draw, on_delete=models.CASCADE, related_name="rounds")
    number = models.PositiveSmallIntegerField(_("round"))
    commitment = models.CharField(_("commitment"), max_length=64)
    sealed_seed = models.BinaryField(_("sealed seed"))
    seed = models.CharField(_("revealed seed"), max_length=64, blank=True)
    slots = models.JSONField(_("prizes drawn"), default=list, blank=True)
    excluded = models.JSONField(_("excluded entries"), default=list, blank=True)
    committed_at = models.DateTimeField(_("committed at"), default=timezone.now)
    drawn_at = models.DateTimeField(_("drawn at"), null=True, blank=True)

    class Meta:
        verbose_name = _("draw round")
        verbose_name_plural = _("draw rounds")
        ordering = ["number"]
        constraints = [
            models.UniqueConstraint(
                fields=["community", "draw", "number"], name="drawround_number_unique"
            ),
            models.CheckConstraint(
                condition=Q(drawn_at__isnull=True, seed="")
                | (Q(drawn_at__isnull=False) & ~Q(seed="")),
                name="drawround_seed_revealed_when_drawn",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.draw_id} round {self.number}"


class Winner(models.Model):
    """An entry drawn for a prize in a round. The winner claims it before ``claim_deadline``;
    unclaimed by then it is forfeited (``forfeited_at``, set by the sweep) and redrawn in the
    next round. One per entry and draw, forfeited or not: a member wins at most once per draw."""

    id = PublicIdField()
    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="+")
    draw = models.ForeignKey(Draw, on_delete=models.CASCADE, related_name="winners")
    round = models.ForeignKey(DrawRound, on_delete=models.CASCADE, related_name="winners")
    prize = models.ForeignKey(Prize, on_delete=models.CASCADE, related_name="winners")
    entry = models.ForeignKey(Entry, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    rank = models.PositiveSmallIntegerField(_("rank in round"))
    claim_deadline = models.DateTimeField(_("claim by"))
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)
    forfeited_at = models.DateTimeField(_("forfeited at"), null=True, blank=True)
    created_at = models.DateTimeField(_("drawn at"), default=timezone.now)

    class Meta:
        verbose_name = _("winner")
        verbose_name_plural = _("winners")
        ordering = ["round__number", "rank"]
        constraints = [
            models.UniqueConstraint(
                fields=["community", "draw", "entry"], name="winner_once_per_draw"
            ),
            models.CheckConstraint(
                condition=Q(claimed_at__isnull=True) | Q(forfeited_at__isnull=True),
                name="winner_claimed_or_forfeited",
            ),
        ]
        indexes = [
            models.Index(
                fields=["claim_deadline"],
                condition=Q(claimed_at__isnull=True, forfeited_at__isnull=True),
                name="winner_unclaimed",
            ),
            models.Index(fields=["community", "user", "created_at"], name="winner_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.entry_id} won {self.prize_id}"
