"""Input and output serializers of the lucky draws API."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from community.api.serializers import MemberTextField
from games.models import (
    CLAIM_HOURS_MAX,
    MIN_POINTS_MAX,
    PRIZE_NAME_MAX,
    TITLE_MAX,
    DrawSource,
    DrawStatus,
)

WINNER_STATUS = [
    ("unclaimed", _("Not claimed yet")),
    ("claimed", _("Claimed")),
    ("forfeited", _("Not claimed in time, redrawn")),
]


class PrizeIn(serializers.Serializer):
    name = MemberTextField(max_length=PRIZE_NAME_MAX, help_text=_("The prize's name."))
    quantity = serializers.IntegerField(
        min_value=1, max_value=100, help_text=_("How many of this prize are drawn.")
    )


class DrawIn(serializers.Serializer):
    title = MemberTextField(max_length=TITLE_MAX)
    # 1 to 10 prizes: counted by the service (400 ``required`` / ``max_length`` on ``prizes``),
    # one place for the API and the admin.
    prizes = PrizeIn(many=True, help_text=_("The prizes, first prize first (drawn in this order)."))
    closes_at = serializers.DateTimeField(help_text=_("When entries close."))
    source = serializers.ChoiceField(
        choices=DrawSource.choices, default=DrawSource.MEMBERS, help_text=_("Who may enter.")
    )
    source_id = serializers.CharField(
        max_length=16,
        required=False,
        allow_blank=True,
        default="",
        help_text=_("The poll, survey, quiz or event whose members enter (for those sources)."),
    )
    min_points = serializers.IntegerField(
        min_value=0,
        max_value=MIN_POINTS_MAX,
        default=0,
        help_text=_(
            "Quiz-fed draws (quiz_scorers): members with at least this many points enter "
            "(0: everyone who submitted). Other sources: 0."
        ),
    )
    claim_hours = serializers.IntegerField(
        min_value=1,
        max_value=CLAIM_HOURS_MAX,
        default=72,
        help_text=_("Hours a winner has to claim their prize before it is redrawn."),
    )
    exclude_organizer = serializers.BooleanField(
        default=True, help_text=_("Leave the organizer out of the draw.")
    )
    exclude_recent_winners_days = serializers.IntegerField(
        min_value=0,
        max_value=365,
        default=0,
        help_text=_(
            "Leave out members who won a draw of this community in the last days (0: nobody)."
        ),
    )
    excluded_member_ids = serializers.ListField(
        child=serializers.CharField(max_length=16),
        max_length=500,
        required=False,
        default=list,
        help_text=_("Members (membership ids) left out of the draw."),
    )


class PrizeOut(serializers.Serializer):
    id = serializers.CharField()
    name = serializers.CharField(help_text=_("The prize's name."))
    quantity = serializers.IntegerField(help_text=_("How many of this prize are drawn."))
    position = serializers.IntegerField(help_text=_("1 for the first prize, then in order."))


class RoundOut(serializers.Serializer):
    number = serializers.IntegerField(help_text=_("The round: 1, then one per redraw."))
    commitment = serializers.CharField(
        help_text=_("SHA-256 (hex) of the round's seed, published before it is drawn.")
    )
    seed = serializers.CharField(
        allow_null=True, help_text=_("The seed, revealed when the round is drawn.")
    )
    committed_at = serializers.DateTimeField(help_text=_("When the commitment was published."))
    drawn_at = serializers.DateTimeField(allow_null=True, help_text=_("When the round was drawn."))


class ResultOut(serializers.Serializer):
    round = serializers.IntegerField(help_text=_("The round that drew it."))
    prize_id = serializers.CharField(help_text=_("The prize's id."))
    prize_name = serializers.CharField(help_text=_("The prize's name."))
    entry_id = serializers.CharField(help_text=_("The winning entry's pseudonymous id."))
    status = serializers.ChoiceField(choices=WINNER_STATUS, help_text=_("Claim state."))


class MyDrawOut(serializers.Serializer):
    entry_id = serializers.CharField(
        help_text=_("My pseudonymous entry id: find it in the published list.")
    )
    entered = serializers.BooleanField(
        help_text=_("I am in the list (before entries close: I would be, as things stand).")
    )
    joined = serializers.BooleanField(help_text=_('I pressed "join the draw".'))
    prize = PrizeOut(allow_null=True, help_text=_("The prize I won, if any."))
    claim_deadline = serializers.DateTimeField(
        allow_null=True, help_text=_("Claim my prize before this time.")
    )
    claimed_at = serializers.DateTimeField(allow_null=True, help_text=_("When I claimed it."))
    forfeited = serializers.BooleanField(
        help_text=_("I won but did not claim in time: the prize was redrawn.")
    )


class DrawCardOut(serializers.Serializer):
    """A draw in the list."""

    id = serializers.CharField()
    title = serializers.CharField()
    status = serializers.ChoiceField(choices=DrawStatus.choices)
    source = serializers.ChoiceField(choices=DrawSource.choices, help_text=_("Who may enter."))
    closes_at = serializers.DateTimeField(help_text=_("When entries close."))
    joined = serializers.BooleanField(help_text=_('I pressed "join the draw".'))
    my_prize_name = serializers.CharField(allow_null=True, help_text=_("The prize I won, if any."))


class DrawOut(serializers.Serializer):
    """A draw as its page shows it."""

    id = serializers.CharField(source="draw.id")
    title = serializers.CharField(source="draw.title")
    status = serializers.ChoiceField(choices=DrawStatus.choices)
    source = serializers.ChoiceField(
        source="draw.source", choices=DrawSource.choices, help_text=_("Who may enter.")
    )
    source_id = serializers.CharField(
        source="draw.source_id",
        help_text=_("The poll, survey, quiz or event whose members enter (for those sources)."),
    )
    min_points = serializers.IntegerField(
        source="draw.min_points",
        help_text=_(
            "Quiz-fed draws (quiz_scorers): members with at least this many points enter "
            "(0: everyone who submitted). Other sources: 0."
        ),
    )
    closes_at = serializers.DateTimeField(
        source="draw.closes_at", help_text=_("When entries close.")
    )
    claim_hours = serializers.IntegerField(
        source="draw.claim_hours",
        help_text=_("Hours a winner has to claim their prize before it is redrawn."),
    )
    prizes = PrizeOut(many=True, help_text=_("The prizes, first prize first."))
    commitment = serializers.CharField(
        allow_null=True,
        help_text=_("The commitment of the next round to draw (null when none is pending)."),
    )
    rounds = RoundOut(many=True, help_text=_("Every round with its commitment and seed."))
    entry_count = serializers.SerializerMethodField(help_text=_("Entries in the frozen list."))
    entries_hash = serializers.SerializerMethodField(
        help_text=_("SHA-256 of the frozen entry list (null before entries close).")
    )
    results = ResultOut(many=True, help_text=_("Winners by pseudonymous entry id."))
    me = MyDrawOut(help_text=_("My state in this draw."))
    created_at = serializers.DateTimeField(source="draw.created_at")

    def get_entry_count(self, obj) -> int | None:
        return obj["draw"].entry_count if obj["draw"].drawn_at else None

    def get_entries_hash(self, obj) -> str | None:
        return obj["draw"].entries_hash or None


class SlotOut(serializers.Serializer):
    prize_id = serializers.CharField(help_text=_("The prize's id."))
    count = serializers.IntegerField(help_text=_("How many of this prize the round draws."))


class PairOut(serializers.Serializer):
    prize_id = serializers.CharField(help_text=_("The prize's id."))
    entry_id = serializers.CharField(help_text=_("The winning entry's pseudonymous id."))


class PublishedRoundOut(serializers.Serializer):
    number = serializers.IntegerField(help_text=_("The round: 1, then one per redraw."))
    commitment = serializers.CharField(
        help_text=_("SHA-256 (hex) of the round's seed, published before it is drawn.")
    )
    committed_at = serializers.DateTimeField(help_text=_("When the commitment was published."))
    seed = serializers.CharField(
        allow_null=True, help_text=_("The seed, revealed when the round is drawn.")
    )
    drawn_at = serializers.DateTimeField(allow_null=True, help_text=_("When the round was drawn."))
    slots = SlotOut(many=True, help_text=_("The prizes the round draws, in prize order."))
    excluded = serializers.ListField(
        child=serializers.CharField(), help_text=_("Entries skipped: earlier rounds' winners.")
    )
    winners = PairOut(many=True, help_text=_("The round's winners, in slot order."))
    forfeited = PairOut(many=True, help_text=_("Winners who did not claim in time."))


class PublicationOut(serializers.Serializer):
    """Everything needed to recompute the draw (procedure ``wxc-draw/v1``)."""

    procedure = serializers.CharField(help_text=_("The procedure's name and version."))
    draw_id = serializers.CharField(help_text=_("Lucky draw id"))
    title = serializers.CharField()
    entries = serializers.ListField(
        child=serializers.CharField(),
        help_text=_("The frozen entry list, ascending (empty before entries close)."),
    )
    entries_hash = serializers.CharField(
        allow_null=True,
        help_text=_("SHA-256 of the frozen entry list (null before entries close)."),
    )
    prizes = PrizeOut(many=True, help_text=_("The prizes, first prize first."))
    rounds = PublishedRoundOut(many=True, help_text=_("Every round with its commitment and seed."))


class EntryRowOut(serializers.Serializer):
    entry_id = serializers.CharField(help_text=_("The entry's pseudonymous id."))
    member_id = serializers.CharField(allow_null=True, help_text=_("The member (membership id)."))
    nickname = serializers.CharField(source="user.nickname")
    prize_name = serializers.CharField(allow_null=True, help_text=_("The prize won, if any."))
    round = serializers.IntegerField(
        source="won_round", allow_null=True, help_text=_("The round that drew it.")
    )
    status = serializers.SerializerMethodField(help_text=_("Claim state."))

    def get_status(self, obj) -> str | None:
        from games.selectors import entry_status

        return entry_status(obj)


class ClaimOut(serializers.Serializer):
    prize = PrizeOut(help_text=_("The prize I won."))
    claim_deadline = serializers.DateTimeField(help_text=_("Claim my prize before this time."))
    claimed_at = serializers.DateTimeField(help_text=_("When I claimed it."))
