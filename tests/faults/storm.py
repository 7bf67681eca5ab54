"""A vote storm against a live app: members changing their vote between two options, each
member's requests in order, every answer recorded; and the checks that the tallies hold."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta

import httpx
from django.test import override_settings
from django.utils import timezone

from community.models import Tier
from community.services.tokens import token_issue
from polls import services
from polls.models import Ballot, Poll, Tally
from tests.factories import CommunityFactory, MembershipFactory


@dataclass
class Voter:
    user_id: int
    token: str
    #: (option id sent, HTTP status, error code or "") for every request, in order.
    answers: list[tuple[str, int, str]] = field(default_factory=list)


@dataclass
class Election:
    poll: Poll
    options: list[str]
    voters: list[Voter]

    def answers(self) -> list[tuple[str, int, str]]:
        return [answer for voter in self.voters for answer in voter.answers]

    def statuses(self) -> Counter:
        return Counter(status for _, status, _ in self.answers())


def election(members: int) -> Election:
    """A community with an open single-choice poll (options A, B) and ``members`` voters with
    real tokens, committed so the app's processes see them."""
    community = CommunityFactory()
    author = MembershipFactory(community=community, tier=Tier.MODERATOR)
    # No WeChat here: with the content check on, the poll would wait hidden in the queue.
    with override_settings(WECHAT_CONTENT_CHECK=False):
        poll = services.poll_create(
            actor=author,
            title="storm",
            kind="single",
            closes_at=timezone.now() + timedelta(days=1),
            options=[{"label": "A"}, {"label": "B"}],
        )
    options = list(poll.options.order_by("position").values_list("id", flat=True))
    voters = []
    for _ in range(members):
        user = MembershipFactory(community=community).user
        voters.append(Voter(user.pk, token_issue(user=user).raw))
    return Election(poll, options, voters)


class Storm:
    """One thread per voter, each voting A, B, A, ... until stopped."""

    def __init__(self, base_url: str, election: Election, timeout: float = 30.0):
        self.base_url = base_url
        self.election = election
        self.timeout = timeout
        self.stop = threading.Event()
        self.sent = 0
        #: status -> the first body answered with it (4xx/5xx)
        self.first_error_body: dict[int, object] = {}
        self._lock = threading.Lock()
        self.threads = [
            threading.Thread(target=self._run, args=(voter,), daemon=True)
            for voter in election.voters
        ]

    def _run(self, voter: Voter) -> None:
        url = f"{self.base_url}/api/v1/polls/{self.election.poll.pk}/ballot"
        headers = {"Authorization": f"Bearer {voter.token}", "Accept-Language": "en"}
        with httpx.Client(timeout=self.timeout, headers=headers) as client:
            i = 0
            while not self.stop.is_set():
                option = self.election.options[i % 2]
                i += 1
                try:
                    response = client.put(url, json={"option_ids": [option]})
                except httpx.HTTPError as exc:  # no answer at all: recorded, and fails checks
                    voter.answers.append((option, 0, type(exc).__name__))
                    continue
                code = ""
                if response.status_code >= 400:
                    try:
                        body = response.json()
                        code = body["errors"][0]["code"]
                    except (ValueError, KeyError, IndexError, TypeError):
                        body = code = response.text[:200]
                    self.first_error_body.setdefault(response.status_code, body)
                voter.answers.append((option, response.status_code, code))
                with self._lock:
                    self.sent += 1

    def __enter__(self) -> Storm:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=self.timeout + 10)


def assert_tallies_exact(election: Election, *, ambiguous_statuses: frozenset = frozenset()):
    """The stored ballots are what the answers say, and the tallies count exactly them.

    A member's ballot is the option of their last 2xx answer. A request answered with one of
    ``ambiguous_statuses`` after it (e.g. 503 when the connection broke around COMMIT, so the
    client cannot know) may also have been stored, but only as a whole ballot."""
    poll = Poll.objects.get(pk=election.poll.pk)
    ballots = {
        voter_id: choices["option_ids"]
        for voter_id, choices in Ballot.objects.filter(poll=poll).values_list("voter", "choices")
    }
    for voter in election.voters:
        last_ok = None
        possible = set()
        for option, status, _ in voter.answers:
            if 200 <= status < 300:
                last_ok, possible = option, {option}
            elif status in ambiguous_statuses:
                possible.add(option)
        stored = ballots.get(voter.user_id)
        if last_ok is None and not possible:
            assert stored is None, (voter.user_id, stored)
        else:
            assert stored is not None and len(stored) == 1, (voter.user_id, stored)
            allowed = possible if possible else {last_ok}
            assert stored[0] in allowed, (voter.user_id, stored, last_ok, voter.answers[-5:])
    expected = Counter(choices[0] for choices in ballots.values())
    tallies = dict(Tally.objects.filter(poll=poll).values_list("key", "count"))
    by_option = {option: tallies.get(option, 0) for option in election.options}
    assert by_option == {option: expected.get(option, 0) for option in election.options}, (
        tallies,
        expected,
    )
    assert sum(tallies.values()) == len(ballots) == poll.voter_count
