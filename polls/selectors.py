"""Reads of the polls app; the query shape of each endpoint is decided here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypedDict

from django.db.models import Case as DbCase
from django.db.models import Exists, F, OuterRef, QuerySet, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from community.authz import VISIBLE_STATUSES, Action, can, ensure, visible_object
from community.errors import Forbidden, NotFound
from community.models import Membership, MembershipStatus, User
from moderation.selectors import held_exists, without_held
from polls.box_publication import check_publishable
from polls.models import (
    Ballot,
    BallotBoxPublication,
    Option,
    Participation,
    Poll,
    PollKind,
    PollStatus,
    ResultsVisibility,
)
from polls.results import compute_results, localized, tallies_of


def non_voter_memberships(*, poll: Poll) -> QuerySet[Membership]:
    """Active members of the poll's community who have not voted (named ballot or secret
    participation)."""
    scope = {"community_id": poll.community_id, "poll_id": poll.pk}
    voted = (
        Participation.objects.filter(**scope, user_id=OuterRef("user_id"))
        if poll.secret
        else Ballot.objects.filter(**scope, voter_id=OuterRef("user_id"))
    )
    return Membership.objects.filter(
        community_id=poll.community_id, status=MembershipStatus.ACTIVE
    ).exclude(Exists(voted))


def poll_for_member(
    *, user: User, poll_id: str, action: Action = Action.VIEW
) -> tuple[Poll, Membership]:
    """The poll, its community and the user's membership in it, in one query
    (``community.authz.visible_object``); 404 for polls of communities the user cannot see,
    403 when they may not do ``action``."""
    found = visible_object(Poll, user=user, object_id=poll_id)
    if found is None:
        raise NotFound(_("Poll not found."))
    poll, membership = found
    ensure(membership, action)
    return poll, membership


def _voted_exists(user_id: str) -> Exists:
    ballot = Ballot.objects.filter(
        community_id=OuterRef("community_id"), poll_id=OuterRef("pk"), voter_id=user_id
    )
    participation = Participation.objects.filter(
        community_id=OuterRef("community_id"), poll_id=OuterRef("pk"), user_id=user_id
    )
    return Exists(ballot) | Exists(participation)


def poll_list(
    *, viewer: Membership, status: str | None = None, not_voted: bool = False
) -> QuerySet[Poll]:
    """The polls of the viewer's community, newest first, each annotated with ``voted`` (did
    the viewer vote) in the same query, so a page costs one query whatever its size."""
    qs = Poll.objects.filter(community_id=viewer.community_id).annotate(
        voted=_voted_exists(viewer.user_id)
    )
    qs = without_held(qs, community_id=viewer.community_id, target_kind="poll")
    if status:
        qs = qs.with_status(status)
    if not_voted:
        qs = qs.filter(voted=False)
    return qs


def open_polls_of_user(*, user: User, not_voted: bool = False) -> QuerySet[Poll]:
    """Open polls of every community the user can see (active or muted member), each with its
    community (joined, for the card and its time zone) and ``voted`` annotated, in one query:
    the "polls for me" feed of the mini-program. Newest first (by the cursor)."""
    communities = Membership.objects.filter(user=user, status__in=VISIBLE_STATUSES).values(
        "community_id"
    )
    qs = (
        Poll.objects.filter(community_id__in=communities)
        .with_status(PollStatus.OPEN)
        .select_related("community")
        .annotate(voted=_voted_exists(user.pk))
        .exclude(held_exists(Poll.hold_kind))
    )
    if not_voted:
        qs = qs.filter(voted=False)
    return qs


def has_voted(*, poll: Poll, user_id: str) -> bool:
    model, field = (Participation, "user_id") if poll.secret else (Ballot, "voter_id")
    return model.objects.filter(
        community_id=poll.community_id, poll_id=poll.pk, **{field: user_id}
    ).exists()


class PollPermissions(TypedDict):
    """The ``my`` block of a poll's detail: whether I voted and what I may do with the poll."""

    voted: bool
    can_vote: bool
    can_manage: bool
    can_add_option: bool
    can_see_voters: bool


def poll_permissions(*, poll: Poll, membership: Membership) -> PollPermissions:
    """What ``membership`` may do with ``poll``, every answer from ``community.authz`` (the
    same rules the services enforce), plus whether they voted. The poll's state (open, closed,
    kind, secrecy) narrows what the rules allow."""
    voted = has_voted(poll=poll, user_id=membership.user_id)
    status = poll.status
    return {
        "voted": voted,
        "can_vote": status == PollStatus.OPEN and can(membership, Action.PARTICIPATE),
        "can_manage": can(membership, Action.MANAGE_POLL, obj=poll),
        "can_add_option": status != PollStatus.CLOSED
        and poll.kind != PollKind.PROPOSAL
        and can(membership, Action.ADD_POLL_OPTION, obj=poll),
        "can_see_voters": not poll.secret and can(membership, Action.SEE_POLL_VOTERS, obj=poll),
    }


def poll_options(*, poll: Poll) -> list[Option]:
    """The options members see: without those held back by moderation."""
    options = Option.objects.filter(community_id=poll.community_id, poll_id=poll.pk)
    return list(without_held(options, community_id=poll.community_id, target_kind="poll_option"))


def my_ballot(*, poll: Poll, user_id: str) -> Ballot | None:
    return Ballot.objects.filter(
        community_id=poll.community_id, poll_id=poll.pk, voter_id=user_id
    ).first()


@dataclass
class Results:
    """What the results endpoint shows to one viewer."""

    poll: Poll
    status: str
    final: bool
    visible: bool
    hidden_reason: str | None
    ballots_needed: int
    voters: int
    method: str | None
    result: dict[str, Any] | None
    alternative: dict[str, Any] | None
    options: list[Option]


def poll_results(*, poll: Poll, viewer: Membership, now: datetime | None = None) -> Results:
    """Results as ``viewer`` may see them.

    Visibility: ``always``; ``after_vote`` once the viewer voted; ``after_close`` once closed.
    The author and moderators see results at any time (they run the poll). Secret polls show no
    counts until ``min_ballots_to_show`` ballots are in, for everyone (small-group privacy).
    A finalized poll shows its frozen results; otherwise they are computed from the tallies."""
    now = now or timezone.now()
    status = poll.status_at(now)
    options = poll_options(poll=poll)
    privileged = can(viewer, Action.SEE_POLL_RESULTS, obj=poll)
    hidden = None
    if status != PollStatus.CLOSED and not privileged:
        if poll.results_visibility == ResultsVisibility.AFTER_CLOSE:
            hidden = "after_close"
        elif poll.results_visibility == ResultsVisibility.AFTER_VOTE and not has_voted(
            poll=poll, user_id=viewer.user_id
        ):
            hidden = "after_vote"
    final = poll.finalized_at is not None and poll.final_results is not None
    if hidden:
        data = {"voters": poll.voter_count, "method": None, "result": None, "alternative": None}
    elif final:
        data = poll.final_results
    else:
        data = compute_results(poll, [o.pk for o in options], tallies_of(poll))
    data = localized(data)
    needed = 0
    if poll.secret and data["voters"] < poll.min_ballots_to_show:
        # Counts show once a batch of k ballots is mixed; those still sealed count as in.
        needed = max(poll.min_ballots_to_show - max(data["voters"], poll.voter_count), 0)
        hidden = hidden or "too_few_ballots"
    if hidden:
        data = {**data, "result": None, "alternative": None}
    return Results(
        poll=poll,
        status=status,
        final=final,
        visible=hidden is None,
        hidden_reason=hidden,
        ballots_needed=needed,
        voters=data["voters"],
        method=data["method"],
        result=data["result"],
        alternative=data["alternative"],
        options=options,
    )


def poll_voters(*, poll: Poll, viewer: Membership) -> QuerySet[Ballot]:
    """Who voted what in a named poll: for moderators, or everyone when ``voters_visible``."""
    if poll.secret:
        raise Forbidden(
            _("This is a secret poll: nobody can see who voted for what."), code="secret_poll"
        )
    if not can(viewer, Action.SEE_POLL_VOTERS, obj=poll):
        raise Forbidden(
            _("Only moderators can see who voted in this poll."), code="voters_not_visible"
        )
    return (
        Ballot.objects.filter(community_id=poll.community_id, poll_id=poll.pk)
        .select_related("voter")
        .annotate(  # a reason WeChat's check did not pass (or a moderator hid) is not shown
            shown_reason=DbCase(
                When(held_exists("ballot_reason", numeric=True), then=Value("")),
                default=F("reason"),
            )
        )
        .order_by("created_at", "pk")
    )


def poll_non_voters(*, poll: Poll, viewer: Membership) -> QuerySet[Membership]:
    """Active members who have not voted (moderators; secret polls too: participation is not
    secret, choices are)."""
    if not can(viewer, Action.MODERATE):
        raise Forbidden(_("Only moderators can see who has not voted yet."), code="tier_too_low")
    return non_voter_memberships(poll=poll).select_related("user").order_by("joined_at", "pk")


# --- the secret ballot's terms and its published box ----------------------------------------
class SecretBallotTerms(TypedDict):
    """What a secret poll promises and what it leaves: read by voters before they vote."""

    batch_size: int
    last_batch_may_be_smaller: bool
    live_results: str
    box_publication_chosen: bool
    box_published: bool
    statement: str


def secret_ballot_terms(*, poll: Poll) -> SecretBallotTerms | None:
    """The terms of a secret poll (None for a named poll): ballots are counted in shuffled
    batches of at least k (``min_ballots_to_show``) and the last batch at close may be smaller;
    members see live results in those steps, or only after close; whether the author may
    publish the ballot box after close (which lets a voter show others how they voted). With
    one translated sentence saying all of it. No query."""
    if not poll.secret:
        return None
    k = poll.min_ballots_to_show
    live = "after_close" if poll.results_visibility == ResultsVisibility.AFTER_CLOSE else "in_steps"
    parts = [
        _(
            "Secret ballot: nobody, not even the database administrators, can see how you "
            "voted. Ballots are counted together in shuffled batches of at least %(k)d; the "
            "last batch at close may hold fewer."
        )
        % {"k": k}
    ]
    if live == "in_steps":
        parts.append(_("Live results move only in those steps."))
    else:
        parts.append(_("Results are shown only after the poll closes."))
    if poll.publish_ballot_box:
        parts.append(
            _(
                "After close the author may publish the ballot box: every ballot, shuffled, with "
                "a tag only your receipt can compute, so anyone can recount it, and you could "
                "show others how you voted."
            )
        )
    else:
        parts.append(_("The ballot box will not be published."))
    return {
        "batch_size": k,
        "last_batch_may_be_smaller": True,
        "live_results": live,
        "box_publication_chosen": poll.publish_ballot_box,
        "box_published": poll.box_published_at is not None,
        "statement": " ".join(str(part) for part in parts),
    }


def poll_ballot_box(*, poll: Poll) -> BallotBoxPublication:
    """The published ballot box of ``poll`` (its members may read it): refused for a named
    poll (409 ``poll_not_secret``), for a secret poll whose box may never be published
    (409 ``box_publication_not_chosen``), and 404 ``ballot_box_not_published`` until the
    author publishes it after close."""
    check_publishable(poll)
    publication = BallotBoxPublication.objects.filter(
        community_id=poll.community_id, poll_id=poll.pk
    ).first()
    if publication is None:
        raise NotFound(
            _("The ballot box of this poll has not been published (yet)."),
            code="ballot_box_not_published",
        )
    return publication
