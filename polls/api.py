"""HTTP layer of polls: thin views over ``polls.services`` and ``polls.selectors``.

Times are rendered in the poll's community time zone (ISO 8601 with offset)."""

from __future__ import annotations

from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from community.authz import Action, require, visible_membership
from community.bound_serializers import represent, validated
from community.db_router import lagging_reads
from community.errors import DomainError
from community.pagination import CursorPagination, cursor_pagination
from community.throttling import WriteThrottle
from community.timezones import community_time
from polls import selectors, services
from polls.ballots import BODY_FIELD
from polls.models import BallotBoxPublication, Poll, PollKind, RankedMethod
from polls.recount import TAG_PROCEDURE
from polls.result_serializers import result_kind, tagged
from polls.results import localized
from polls.serializers import (
    BALLOT_OUT,
    BallotIn,
    PollBallotBoxOut,
    PollBallotIn,
    PollBallotOut,
    PollCardOut,
    PollCreateIn,
    PollDetailOut,
    PollFeedCardOut,
    PollFeedFilterIn,
    PollFilterIn,
    PollNonVoterOut,
    PollOptionAddIn,
    PollOptionOut,
    PollPageOut,
    PollReopenIn,
    PollResultsOut,
    PollVoterOut,
    PollWithdrawIn,
)

TAGS = ["polls"]
_POLL_ID = OpenApiParameter(
    "poll_id", str, OpenApiParameter.PATH, description=gettext_lazy("Poll id")
)

ANONYMITY_NOTE = gettext_lazy(
    "**Secret polls.** Who took part is recorded apart from the ballot, which waits sealed "
    "(encrypted) in the poll's ballot box until at least `min_ballots_to_show` ballots are "
    "there; they are then mixed in a shuffled order and counted together. Someone with every "
    "row of the database but not the server's keys cannot tell how anyone voted, and live "
    "counts move only in steps of at least that many ballots (the last batch at close may be "
    "smaller). The first `PUT` answers with a one-time `receipt`; keep it in wx storage. To "
    "change or withdraw a secret ballot send that receipt; without it the vote stays as cast "
    "(409 `receipt_required`). Each secret poll's detail states its terms in `secret_ballot` "
    "(the step k, that the last batch at close may hold fewer than k ballots, whether live "
    "results move in steps or show only after close, whether the box may be published). "
    "**Published ballot box.** Only when the author chose `publish_ballot_box` at creation "
    "(or before the first vote; off by default): after close the author or a moderator may "
    "publish every final ballot in shuffled order, each with a public tag, and anyone can "
    "recount it (`GET /polls/{id}/ballot-box`, `manage.py poll_recount`). The tag is "
    '`sha256_hex("wxc-poll-ballot-tag/v1" + "\\n" + poll_id + "\\n" + receipt)`: a '
    "voter finds their ballot with their receipt, and nobody can compute it from what the "
    "server stores. A published box lets a voter show others how they voted. "
)


def _tz(poll: Poll):
    return community_time(poll.community)


def _detail_body(poll: Poll, membership) -> dict:
    options = selectors.poll_options(poll=poll)
    my = selectors.poll_permissions(poll=poll, membership=membership)
    poll.voted = my["voted"]
    poll._prefetched_objects_cache = {"options": options}
    with _tz(poll):
        return PollDetailOut(poll, context={"my": my}).data


def _detail_response(poll: Poll, membership, *, status_code: int = 200) -> Response:
    return Response(_detail_body(poll, membership), status=status_code)


POLL_CREATE_EXAMPLES = [
    OpenApiExample(
        "Single choice",
        value={
            "title": "周六活动去哪里？",
            "kind": "single",
            "options": [{"label": "爬山"}, {"label": "桌游"}, {"label": "看电影"}],
            "closes_at": "2026-06-06T20:00:00+08:00",
            "results_visibility": "after_vote",
        },
        request_only=True,
    ),
    OpenApiExample(
        "Ranked choice (instant runoff), secret",
        value={
            "title": "Elect the new coordinator",
            "kind": "ranked",
            "ranked_method": "irv",
            "secret": True,
            "min_ballots_to_show": 5,
            "quorum_percent": 50,
            "options": [{"label": "Alice"}, {"label": "Bob"}, {"label": "Chen"}],
            "closes_at": "2026-06-10T22:00:00+08:00",
        },
        request_only=True,
    ),
    OpenApiExample(
        "Score 1-5",
        value={
            "title": "Rate the venues",
            "kind": "score",
            "min_score": 1,
            "max_score": 5,
            "options": [{"label": "Café A"}, {"label": "Park B"}],
            "closes_at": "2026-06-10T22:00:00+08:00",
        },
        request_only=True,
    ),
    OpenApiExample(
        "Proposal",
        value={
            "title": "Raise the yearly fee to 50 yuan",
            "kind": "proposal",
            "closes_at": "2026-06-10T22:00:00+08:00",
        },
        request_only=True,
    ),
    OpenApiExample(
        "Time poll",
        value={
            "title": "When do we meet?",
            "kind": "time",
            "options": [
                {"starts_at": "2026-06-13T10:00:00+08:00", "ends_at": "2026-06-13T12:00:00+08:00"},
                {"starts_at": "2026-06-14T15:00:00+08:00", "ends_at": "2026-06-14T17:00:00+08:00"},
            ],
            "closes_at": "2026-06-11T22:00:00+08:00",
        },
        request_only=True,
    ),
]

BALLOT_EXAMPLES = [
    OpenApiExample(
        "Single choice",
        value={"kind": "single", "option_ids": ["Hk3mP9xQa2Zb"]},
        request_only=True,
    ),
    OpenApiExample(
        "Multiple choice",
        value={"kind": "multiple", "option_ids": ["Hk3mP9xQa2Zb", "Rt7uV2wXy3Cd"]},
        request_only=True,
    ),
    OpenApiExample(
        "Ranked (best first)",
        value={"kind": "ranked", "ranking": ["Hk3mP9xQa2Zb", "Rt7uV2wXy3Cd", "Mn4pQ5rSt6Ef"]},
        request_only=True,
    ),
    OpenApiExample(
        "Score",
        value={"kind": "score", "scores": {"Hk3mP9xQa2Zb": 5, "Rt7uV2wXy3Cd": 3}},
        request_only=True,
    ),
    OpenApiExample(
        "Proposal",
        value={"kind": "proposal", "position": "agree", "reason": "值得一试"},
        request_only=True,
    ),
    OpenApiExample(
        "Time poll",
        value={"kind": "time", "answers": {"Hk3mP9xQa2Zb": "yes", "Rt7uV2wXy3Cd": "if_need_be"}},
        request_only=True,
    ),
    OpenApiExample(
        "Replace a secret ballot",
        value={
            "kind": "ranked",
            "ranking": ["Rt7uV2wXy3Cd"],
            "receipt": "x9Fq...the receipt you kept...",
        },
        request_only=True,
    ),
    OpenApiExample(
        "Named ballot cast",
        value={
            "kind": "proposal",
            "voted": True,
            "secret": False,
            "position": "agree",
            "reason": "值得一试",
            "receipt": None,
            "updated_at": "2026-06-05T20:15:03+08:00",
        },
        response_only=True,
    ),
    OpenApiExample(
        "Secret ballot cast",
        value={
            "kind": "ranked",
            "voted": True,
            "secret": True,
            "ranking": ["Hk3mP9xQa2Zb", "Rt7uV2wXy3Cd"],
            "receipt": "x9FqL2...43 random characters...",
            "updated_at": None,
        },
        response_only=True,
    ),
]


class PollListView(GenericAPIView):
    pagination_class = CursorPagination
    serializer_class = PollCardOut
    throttle_classes = [WriteThrottle]

    @extend_schema(
        operation_id="listPolls",
        tags=TAGS,
        summary=gettext_lazy("Polls of a community"),
        description=(
            gettext_lazy(
                "Newest first, cursor-paginated. Each card carries everything the list shows: "
                "title, kind, secret, status (computed from the clock), deadline, whether I voted, "
                "participant_count, eligible_count, turnout and quorum. Filters: `status`, `not_voted`."
            )
        ),
        parameters=[PollFilterIn],
        responses={200: PollCardOut(many=True)},
    )
    def get(self, request, community_id: str):
        viewer = visible_membership(request.user, community_id)
        filters = PollFilterIn(data=request.query_params)
        filters.is_valid(raise_exception=True)
        page = self.paginate_queryset(selectors.poll_list(viewer=viewer, **filters.validated_data))
        with community_time(viewer.community):
            return self.get_paginated_response(PollCardOut(page, many=True).data)

    @extend_schema(
        operation_id="createPoll",
        tags=TAGS,
        summary=gettext_lazy("Create a poll"),
        description=(
            format_lazy(
                "{}{}",
                gettext_lazy(
                    "Moderators and above; ordinary members when the community lets members create "
                    "polls. Kinds: `single`, `multiple` (min/max selections), `ranked` (instant runoff "
                    "or Borda), `score` (range), `proposal` (agree/abstain/disagree/block, no options), "
                    "`time` (options are time slots; a blank label is made from the slot in the "
                    "community's time zone). "
                ),
                ANONYMITY_NOTE,
            )
        ),
        request=PollCreateIn,
        responses={201: PollDetailOut},
        examples=POLL_CREATE_EXAMPLES,
    )
    def post(self, request, community_id: str):
        actor = require(request.user, community_id, Action.CREATE_POLL)
        data = PollCreateIn(data=request.data)
        with community_time(actor.community):  # a time without offset is the community's
            data.is_valid(raise_exception=True)
        poll = services.poll_create(actor=actor, **data.validated_data)
        poll.community = actor.community
        return _detail_response(poll, actor, status_code=status.HTTP_201_CREATED)


class PollDetailView(APIView):
    @extend_schema(
        operation_id="getPoll",
        tags=TAGS,
        summary=gettext_lazy("Poll detail"),
        description=gettext_lazy("With its options and what I may do. 404 outside my communities."),
        parameters=[_POLL_ID],
        responses={200: PollDetailOut},
    )
    def get(self, request, poll_id: str):
        poll, membership = selectors.poll_for_member(user=request.user, poll_id=poll_id)
        poll = services.poll_finalize_on_read(poll=poll)
        return _detail_response(poll, membership)


def _ballot_body(
    poll: Poll, *, voted: bool, choices=None, reason=None, receipt=None, updated_at=None
) -> dict:
    """My ballot in the shape of the poll's kind. ``reason`` is null when there is none (not
    voted, none given, or a secret poll), never ``""``."""
    body = {
        "kind": poll.kind,
        "voted": voted,
        "secret": poll.secret,
        "receipt": receipt,
        "updated_at": updated_at,
    }
    field = BODY_FIELD[PollKind(poll.kind)]
    body[field] = (choices or {}).get(field)
    if poll.kind == PollKind.PROPOSAL:
        body["reason"] = reason or None
    return body


def _my_ballot(poll: Poll, user_id: int) -> dict:
    """What ``getMyBallot`` answers (and ``castBallot`` on a named poll, right after)."""
    if poll.secret:
        return _ballot_body(poll, voted=selectors.has_voted(poll=poll, user_id=user_id))
    ballot = selectors.my_ballot(poll=poll, user_id=user_id)
    if ballot is None:
        return _ballot_body(poll, voted=False)
    return _ballot_body(
        poll,
        voted=True,
        choices=ballot.choices,
        reason=ballot.reason,
        updated_at=ballot.updated_at,
    )


def _ballot_data(poll: Poll, body: dict) -> dict:
    with _tz(poll):
        return represent(BALLOT_OUT[PollKind(poll.kind)], body)


def _ballot_response(poll: Poll, body: dict) -> Response:
    return Response(_ballot_data(poll, body))


def _results_body(poll: Poll, membership) -> dict:
    """What ``getPollResults`` answers (the poll read and frozen if due)."""
    if poll.finalized_at is not None:
        # Frozen results never change: the options may be read from the replica.
        with lagging_reads():
            res = selectors.poll_results(poll=poll, viewer=membership)
    else:
        res = selectors.poll_results(poll=poll, viewer=membership)
    body = {
        "poll_id": poll.pk,
        "kind": poll.kind,
        "status": res.status,
        "final": res.final,
        "visible": res.visible,
        "hidden_reason": res.hidden_reason,
        "ballots_needed": res.ballots_needed,
        "participant_count": res.voters,
        "eligible_count": poll.electorate,
        "turnout_percent": poll.turnout_percent,
        "quorum_percent": poll.quorum_percent,
        "quorum_met": poll.quorum_met,
        "ranked_method": res.method,
        "result": tagged(res.result, result_kind(poll.kind, res.method)),
        "alternative": tagged(
            res.alternative, "borda" if res.method == RankedMethod.IRV else "irv"
        ),
        "options": res.options,
    }
    with _tz(poll):
        return PollResultsOut(body).data


class BallotView(APIView):
    throttle_classes = [WriteThrottle]

    @extend_schema(
        operation_id="getMyBallot",
        tags=TAGS,
        summary=gettext_lazy("My ballot"),
        description=(
            gettext_lazy(
                "Named polls: my choices. Secret polls: only whether I took part; the server "
                "cannot know which ballot is mine."
            )
        ),
        parameters=[_POLL_ID],
        responses={200: PollBallotOut},
    )
    def get(self, request, poll_id: str):
        poll, _membership = selectors.poll_for_member(user=request.user, poll_id=poll_id)
        return _ballot_response(poll, _my_ballot(poll, request.user.pk))

    @extend_schema(
        operation_id="castBallot",
        tags=TAGS,
        summary=gettext_lazy("Cast or replace my ballot"),
        description=(
            format_lazy(
                "{}{}",
                gettext_lazy(
                    "Idempotent: sending the same ballot again changes nothing, a new one replaces "
                    "mine (when the poll allows vote changes). Send the poll's `kind` and its field: "
                    "`option_ids` (single: exactly one; multiple: between min and max selections), "
                    "`ranking` (ranked, best first, partial allowed, no duplicates), `scores` (score, "
                    "within the range), `position` + optional `reason` (proposal; reasons on named "
                    "polls only), `answers` (time poll: yes / if_need_be / no per slot). Errors: 400 "
                    "for a bad ballot (`unknown_option`, `too_many_choices`, `too_few_choices`, "
                    "`duplicate_rank`, `score_out_of_range`, ...), 403 when muted or the group rules "
                    "are not accepted, 409 `poll_not_open`, `poll_closed`, `vote_change_not_allowed`, "
                    "`receipt_required`, `poll_changed` (its kind or options were edited while the "
                    "ballot was being cast: reload the poll). "
                ),
                ANONYMITY_NOTE,
            )
        ),
        parameters=[_POLL_ID],
        request=BallotIn,
        responses={200: PollBallotOut},
        examples=BALLOT_EXAMPLES,
    )
    def put(self, request, poll_id: str):
        poll, membership = selectors.poll_for_member(
            user=request.user, poll_id=poll_id, action=Action.PARTICIPATE
        )
        body = dict(validated(PollBallotIn, request.data))
        receipt = body.pop("receipt", None)
        kind = body.pop("kind", poll.kind)
        if kind != poll.kind:
            raise DomainError(
                _("This is a “%(kind)s” poll: send a ballot of that kind.")
                % {"kind": PollKind(poll.kind).label},
                code="wrong_ballot_shape",
                field="kind",
            )
        cast = services.ballot_cast(membership=membership, poll=poll, body=body, receipt=receipt)
        if not poll.secret:
            # Exactly what a GET right after answers (the stored ballot and its ``updated_at``).
            return _ballot_response(
                poll,
                _ballot_body(
                    poll,
                    voted=True,
                    choices=cast.choices,
                    reason=cast.reason,
                    updated_at=cast.updated_at,
                ),
            )
        # A secret ballot is echoed once, with its receipt: no GET can show it again.
        return _ballot_response(
            poll, _ballot_body(poll, voted=True, choices=cast.choices, receipt=cast.receipt)
        )

    @extend_schema(
        operation_id="withdrawBallot",
        tags=TAGS,
        summary=gettext_lazy("Withdraw my ballot"),
        description=(
            format_lazy(
                "{}{}",
                gettext_lazy(
                    "Removes my ballot while the poll is open (and allows vote changes); a no-op when "
                    "I have none. Secret polls: send the `receipt` in the JSON body. "
                ),
                ANONYMITY_NOTE,
            )
        ),
        parameters=[_POLL_ID],
        request=PollWithdrawIn,
        responses={204: None},
    )
    def delete(self, request, poll_id: str):
        poll, membership = selectors.poll_for_member(
            user=request.user, poll_id=poll_id, action=Action.PARTICIPATE
        )
        data = PollWithdrawIn(data=request.data or {})
        data.is_valid(raise_exception=True)
        services.ballot_withdraw(
            membership=membership, poll=poll, receipt=data.validated_data.get("receipt")
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class ResultsView(APIView):
    @extend_schema(
        operation_id="getPollResults",
        tags=TAGS,
        summary=gettext_lazy("Results"),
        description=(
            gettext_lazy(
                "Computed from running tallies (never by scanning ballots), so they come back "
                "equally fast with 100 or 100,000 ballots; frozen by the first read after the "
                "poll closed (`final`), so they are final at the deadline. Visibility follows the poll (`always`, `after_vote`, `after_close`; the "
                "author and moderators always see them). Secret polls hide counts until "
                "`min_ballots_to_show` ballots are in (`ballots_needed` says how many more). "
                "Ranked polls show every instant-runoff round (counts, eliminated option, "
                "exhausted ballots, tie-break rule) and the Borda count as `alternative` (or the "
                "other way round). Turnout = participant_count / eligible_count (members active when the poll opened, plus later members who voted; never above 100%); "
                "`quorum_met` compares it with `quorum_percent`."
            )
        ),
        parameters=[_POLL_ID],
        responses={200: PollResultsOut},
        examples=[
            OpenApiExample(
                "Single choice",
                value={
                    "poll_id": "Pq2mX8kLr4Zt",
                    "kind": "single",
                    "status": "open",
                    "final": False,
                    "visible": True,
                    "hidden_reason": None,
                    "ballots_needed": 0,
                    "participant_count": 3,
                    "eligible_count": 10,
                    "turnout_percent": 30.0,
                    "quorum_percent": 0,
                    "quorum_met": True,
                    "ranked_method": None,
                    "result": {
                        "kind": "choice",
                        "participant_count": 3,
                        "options": [
                            {"option": "Hk3mP9xQa2Zb", "count": 2, "percent": 66.7},
                            {"option": "Rt7uV2wXy3Cd", "count": 1, "percent": 33.3},
                        ],
                        "winners": ["Hk3mP9xQa2Zb"],
                    },
                    "alternative": None,
                    "options": [
                        {
                            "id": "Hk3mP9xQa2Zb",
                            "label": "爬山",
                            "position": 0,
                            "starts_at": None,
                            "ends_at": None,
                        },
                        {
                            "id": "Rt7uV2wXy3Cd",
                            "label": "桌游",
                            "position": 1,
                            "starts_at": None,
                            "ends_at": None,
                        },
                    ],
                },
                response_only=True,
            )
        ],
    )
    def get(self, request, poll_id: str):
        poll, membership = selectors.poll_for_member(user=request.user, poll_id=poll_id)
        poll = services.poll_finalize_on_read(poll=poll)
        return Response(_results_body(poll, membership))


class VotersView(GenericAPIView):
    serializer_class = PollVoterOut
    pagination_class = cursor_pagination("created_at", "pk")

    @extend_schema(
        operation_id="listVoters",
        tags=TAGS,
        summary=gettext_lazy("Who voted what (named polls)"),
        description=(
            gettext_lazy(
                "Moderators and above, or every member when the poll has `voters_visible`. Secret "
                "polls answer 403 `secret_poll`: nobody can see who voted for what."
            )
        ),
        parameters=[_POLL_ID],
        responses={200: PollVoterOut(many=True)},
    )
    def get(self, request, poll_id: str):
        poll, membership = selectors.poll_for_member(user=request.user, poll_id=poll_id)
        page = self.paginate_queryset(selectors.poll_voters(poll=poll, viewer=membership))
        with _tz(poll):
            return self.get_paginated_response(PollVoterOut(page, many=True).data)


class NonVotersView(GenericAPIView):
    serializer_class = PollNonVoterOut
    pagination_class = cursor_pagination("joined_at", "pk")

    @extend_schema(
        operation_id="listNonVoters",
        tags=TAGS,
        summary=gettext_lazy("Who has not voted yet (moderators)"),
        description=(
            gettext_lazy(
                "Active members without a ballot. Works for secret polls too: participation is "
                "not secret, choices are."
            )
        ),
        parameters=[_POLL_ID],
        responses={200: PollNonVoterOut(many=True)},
    )
    def get(self, request, poll_id: str):
        poll, membership = selectors.poll_for_member(user=request.user, poll_id=poll_id)
        page = self.paginate_queryset(selectors.poll_non_voters(poll=poll, viewer=membership))
        return self.get_paginated_response(PollNonVoterOut(page, many=True).data)


class OptionAddView(APIView):
    throttle_classes = [WriteThrottle]

    @extend_schema(
        operation_id="addPollOption",
        tags=TAGS,
        summary=gettext_lazy("Add an option"),
        description=(
            gettext_lazy(
                "The author and moderators may add options until the poll closes; members only "
                "when the poll has `allow_member_options`. Not for proposals. Existing ballots do "
                "not include the new option (ranked ballots treat it as unranked)."
            )
        ),
        parameters=[_POLL_ID],
        request=PollOptionAddIn,
        responses={201: PollOptionOut},
        examples=[OpenApiExample("Option", value={"label": "去露营"}, request_only=True)],
    )
    def post(self, request, poll_id: str):
        poll, membership = selectors.poll_for_member(user=request.user, poll_id=poll_id)
        data = PollOptionAddIn(data=request.data)
        with _tz(poll):
            data.is_valid(raise_exception=True)
        option = services.option_add(actor=membership, poll_id=poll.pk, **data.validated_data)
        with _tz(poll):
            return Response(PollOptionOut(option).data, status=status.HTTP_201_CREATED)


class CloseView(APIView):
    throttle_classes = [WriteThrottle]

    @extend_schema(
        operation_id="closePoll",
        tags=TAGS,
        summary=gettext_lazy("Close a poll now"),
        description=gettext_lazy(
            "Its author or a moderator. Final results are frozen and voters notified."
        ),
        parameters=[_POLL_ID],
        request=None,
        responses={200: PollDetailOut},
    )
    def post(self, request, poll_id: str):
        poll, membership = selectors.poll_for_member(user=request.user, poll_id=poll_id)
        poll = services.poll_close(actor=membership, poll_id=poll.pk)
        poll.community = membership.community
        return _detail_response(poll, membership)


class ReopenView(APIView):
    throttle_classes = [WriteThrottle]

    @extend_schema(
        operation_id="reopenPoll",
        tags=TAGS,
        summary=gettext_lazy("Reopen a closed poll"),
        description=(
            gettext_lazy(
                "Its author or a moderator. Clears the frozen results. Give `closes_at` when the "
                "old closing time has passed."
            )
        ),
        parameters=[_POLL_ID],
        request=PollReopenIn,
        responses={200: PollDetailOut},
        examples=[
            OpenApiExample(
                "New deadline", value={"closes_at": "2026-06-12T20:00:00+08:00"}, request_only=True
            )
        ],
    )
    def post(self, request, poll_id: str):
        poll, membership = selectors.poll_for_member(user=request.user, poll_id=poll_id)
        data = PollReopenIn(data=request.data or {})
        with _tz(poll):
            data.is_valid(raise_exception=True)
        poll = services.poll_reopen(actor=membership, poll_id=poll.pk, **data.validated_data)
        poll.community = membership.community
        return _detail_response(poll, membership)


def _ballot_box_body(poll: Poll, publication: BallotBoxPublication) -> dict:
    options = selectors.poll_options(poll=poll)
    return {
        "poll_id": poll.pk,
        "title": poll.title,
        "published_at": publication.published_at,
        "tag_procedure": TAG_PROCEDURE,
        "counting": publication.counting,
        "options": options,
        "ballot_count": len(publication.ballots),
        "ballots": publication.ballots,
        "result": _published_result(poll, localized(publication.result)),
    }


def _published_result(poll: Poll, published: dict) -> dict:
    """The frozen count of a published box in the API's result shape (``tagged``, the head count
    as ``participant_count``), as ``getPollResults`` shows it."""
    method = published.get("method")
    return {
        "participant_count": published["voters"],
        "method": method,
        "result": tagged(published["result"], result_kind(poll.kind, method)),
        "alternative": tagged(
            published.get("alternative"), "borda" if method == RankedMethod.IRV else "irv"
        ),
    }


BALLOT_BOX_DESCRIPTION = gettext_lazy(
    "Every final ballot of a closed secret poll in shuffled order, each with its public "
    "`tag`, the parameters a count needs (`counting`) and the published `result`. Anyone can "
    "recount it: `python manage.py poll_recount --file box.json` with this answer saved as "
    "`box.json` prints the recount and whether it matches `result` (the count is the pure "
    "function `polls.recount.recount`). A voter finds their own ballot by computing the tag "
    "from their receipt (`tag_procedure`): "
    '`sha256_hex("wxc-poll-ballot-tag/v1" + "\\n" + poll_id + "\\n" + receipt)`. The '
    "tag is not the receipt hash the server stores and cannot be computed from it. A "
    "published box lets a voter show others how they voted: that is why publishing must be "
    "chosen (`publish_ballot_box`) before the first vote. One document, not paginated: its "
    "ballots are checked together. Named polls answer 409 `poll_not_secret`, secret polls "
    "whose box stays sealed 409 `box_publication_not_chosen`, a box not published yet 404 "
    "`ballot_box_not_published`."
)


class BallotBoxView(APIView):
    throttle_classes = [WriteThrottle]

    @extend_schema(
        tags=TAGS,
        operation_id="getPublishedBallotBox",
        summary=gettext_lazy("The published ballot box"),
        description=BALLOT_BOX_DESCRIPTION,
        parameters=[_POLL_ID],
        responses={200: PollBallotBoxOut},
        examples=[
            OpenApiExample(
                "Single choice, 3 ballots",
                value={
                    "poll_id": "Pq2mX8kLr4Zt",
                    "title": "周六活动去哪里？",
                    "published_at": "2026-06-06T20:05:00+08:00",
                    "tag_procedure": TAG_PROCEDURE,
                    "counting": {
                        "kind": "single",
                        "options": ["Hk3mP9xQa2Zb", "Rt7uV2wXy3Cd"],
                        "ranked_method": "irv",
                        "min_score": 0,
                        "max_score": 5,
                    },
                    "options": [
                        {
                            "id": "Hk3mP9xQa2Zb",
                            "label": "爬山",
                            "position": 0,
                            "starts_at": None,
                            "ends_at": None,
                        },
                        {
                            "id": "Rt7uV2wXy3Cd",
                            "label": "桌游",
                            "position": 1,
                            "starts_at": None,
                            "ends_at": None,
                        },
                    ],
                    "ballot_count": 3,
                    "ballots": [
                        {"tag": "3f1c...64 hex...", "choices": {"option_ids": ["Hk3mP9xQa2Zb"]}},
                        {"tag": "a90e...64 hex...", "choices": {"option_ids": ["Rt7uV2wXy3Cd"]}},
                        {"tag": "07bd...64 hex...", "choices": {"option_ids": ["Hk3mP9xQa2Zb"]}},
                    ],
                    "result": {
                        "participant_count": 3,
                        "method": None,
                        "result": {
                            "kind": "choice",
                            "participant_count": 3,
                            "options": [
                                {"option": "Hk3mP9xQa2Zb", "count": 2, "percent": 66.7},
                                {"option": "Rt7uV2wXy3Cd", "count": 1, "percent": 33.3},
                            ],
                            "winners": ["Hk3mP9xQa2Zb"],
                        },
                        "alternative": None,
                    },
                },
                response_only=True,
            )
        ],
    )
    def get(self, request, poll_id: str):
        poll, _membership = selectors.poll_for_member(user=request.user, poll_id=poll_id)
        publication = selectors.poll_ballot_box(poll=poll)
        with _tz(poll):
            return Response(PollBallotBoxOut(_ballot_box_body(poll, publication)).data)

    @extend_schema(
        tags=TAGS,
        operation_id="publishBallotBox",
        summary=gettext_lazy("Publish the ballot box"),
        description=(
            format_lazy(
                "{}{}",
                gettext_lazy(
                    "The poll's author or a moderator, after close, for a secret poll created with "
                    "`publish_ballot_box`: freezes the results (mixing the last batch) and publishes "
                    "every final ballot in a new shuffled order with its tag. Idempotent: a second "
                    "call answers the same publication. A published poll cannot be reopened. Errors: "
                    "409 `poll_not_secret`, `box_publication_not_chosen`, `poll_not_closed`; 403 "
                    "`cannot_manage`. "
                ),
                BALLOT_BOX_DESCRIPTION,
            )
        ),
        parameters=[_POLL_ID],
        request=None,
        responses={201: PollBallotBoxOut},
    )
    def post(self, request, poll_id: str):
        poll, membership = selectors.poll_for_member(user=request.user, poll_id=poll_id)
        publication = services.poll_ballot_box_publish(actor=membership, poll_id=poll.pk)
        poll.refresh_from_db(fields=["box_published_at", "final_results", "finalized_at"])
        with _tz(poll):
            body = PollBallotBoxOut(_ballot_box_body(poll, publication)).data
        return Response(body, status=status.HTTP_201_CREATED)


class PollPageView(APIView):
    @extend_schema(
        operation_id="getPollPage",
        tags=TAGS,
        summary=gettext_lazy("Everything the poll page shows"),
        description=(
            gettext_lazy(
                "The poll (as `getPoll`), my ballot (as `getMyBallot`) and the results as I may see "
                "them (as `getPollResults`) in one answer, so the page needs one request. Frozen "
                "at the first read after the deadline, like the detail and the results."
            )
        ),
        parameters=[_POLL_ID],
        responses={200: PollPageOut},
    )
    def get(self, request, poll_id: str):
        poll, membership = selectors.poll_for_member(user=request.user, poll_id=poll_id)
        poll = services.poll_finalize_on_read(poll=poll)
        body = {
            "poll": _detail_body(poll, membership),
            "my_ballot": _ballot_data(poll, _my_ballot(poll, request.user.pk)),
            "results": _results_body(poll, membership),
        }
        return Response(body)


class MyOpenPollsView(GenericAPIView):
    pagination_class = CursorPagination
    serializer_class = PollFeedCardOut

    @extend_schema(
        operation_id="listMyOpenPolls",
        tags=TAGS,
        summary=gettext_lazy("Open polls of all my communities"),
        description=(
            gettext_lazy(
                "A feed of the polls open now in every community I am an active or muted member "
                "of, newest first, cursor-paginated; each card is a poll card with its "
                "`community_id` and `community_name`, in its community's time zone. Filter: "
                "`not_voted`."
            )
        ),
        parameters=[PollFeedFilterIn],
        responses={200: PollFeedCardOut(many=True)},
    )
    def get(self, request):
        filters = PollFeedFilterIn(data=request.query_params)
        filters.is_valid(raise_exception=True)
        page = self.paginate_queryset(
            selectors.open_polls_of_user(user=request.user, **filters.validated_data)
        )
        data = []
        for poll in page:  # each card in the time zone of its own community
            with community_time(poll.community):
                data.append(PollFeedCardOut(poll).data)
        return self.get_paginated_response(data)
