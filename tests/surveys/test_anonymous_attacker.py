"""The attacker of issue 8 against anonymous surveys, on PostgreSQL.

30 members answer an anonymous survey one after the other, each with content we know (member
``i`` answers the number ``i`` and a text whose length does not follow the order). The attacker
has every row of the database -- read with plain SQL, no settings, no keys -- and reads the
moderator's report together with the participation list after every response. They try every
link: ids, physical order (``ctid``), transaction ids (``xmin``), timestamps, answer-row ids,
sizes, and the report's changes. Against the box (the product) they must link nobody; against
the old storage shape (the response row written in the member's own transaction, written here
the old way) the same attacker links everyone: the CONTROL.

An ordering signal is scored by how many members it would name if the attacker trusted it
(responses in the signal's order paired with the participations in theirs). Mixing shuffles
each batch of k = 5 uniformly, so such a guess names about one member per batch by chance
(6 expected of 30); more than 15 would happen with a probability far below one in a million.

Draft phase: each member first saves a server-side draft of the same answers (and submits that
stored draft with its token). Right after each save the attacker reads every draft row, pairs
it with a participation by transaction id and tries to read its answers. Sealed drafts give
nothing, all have one size and none is left after submit; the old plaintext drafts named
every member.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from django.db import connection, transaction
from django.utils import timezone

from surveys import services
from surveys.definition import definition_for
from surveys.engine import clean_response
from surveys.models import (
    Participation,
    Response,
    ResponseStatus,
    SealedDraft,
    SealedResponse,
    new_edit_token,
)
from surveys.reports import survey_report
from surveys.response_store import answer_rows_insert
from surveys.services.responses import answer_rows
from tests.factories import MembershipFactory
from tests.surveys.factories import make_survey

pytestmark = pytest.mark.django_db(transaction=True)

N, K = 30, 5
#: The most members an ordering guess may name by chance (6 expected, see the docstring).
CHANCE_CEILING = 15


@pytest.fixture
def needs_postgres():
    if connection.vendor != "postgresql":
        pytest.skip("the attacker reads PostgreSQL system columns (set DATABASE_URL)")


def _survey(community):
    return make_survey(
        community,
        [
            {"key": "n", "type": "number", "title": "编号", "required": True, "integer_only": True},
            {"key": "t", "type": "short_text", "title": "说点什么", "required": True},
        ],
        anonymous=True,
        allow_edit_after_submit=True,
        min_group_size=K,
    )


def _answers(survey, i: int) -> dict:
    # Text length scrambled against the order, so a size says nothing the content does not.
    return {survey.q["n"].id: i, survey.q["t"].id: "字" * ((i * 7) % N + 1)}


def _write_the_old_way(survey, membership, i: int) -> None:
    """The storage shape before the box and sealed drafts: participation and a plaintext
    draft saved first; then the plaintext response with its answer rows, written in the
    member's own transaction at the time they answered."""
    definition = definition_for(survey)
    result = clean_response(definition, _answers(survey, i), partial=False)
    now = timezone.now()
    with transaction.atomic():
        Participation.objects.create(
            community_id=survey.community_id,
            survey=survey,
            user=membership.user,
            anonymous=True,
            status=ResponseStatus.DRAFT,
        )
        Response.objects.create(
            community_id=survey.community_id,
            survey=survey,
            status=ResponseStatus.DRAFT,
            answers=result.to_json(),
            edit_token_hash=new_edit_token()[1],
        )
    DRAFTS_READ.append(_read_drafts(survey))
    with transaction.atomic():
        Response.objects.filter(survey=survey, status=ResponseStatus.DRAFT).delete()
        Participation.objects.filter(survey=survey, user=membership.user).update(
            status=ResponseStatus.SUBMITTED, submissions=1
        )
        response = Response.objects.create(
            community_id=survey.community_id,
            survey=survey,
            status=ResponseStatus.SUBMITTED,
            answers=result.to_json(),
            edit_token_hash=new_edit_token()[1],
            created_at=now,
            updated_at=now,
            submitted_at=now,
        )
        answer_rows_insert(
            community_id=survey.community_id,
            survey_id=survey.pk,
            response_id=response.pk,
            rows=answer_rows(definition, result.values),
        )


def _sql(query: str, params: list) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        return cursor.fetchall()


# --- what the attacker reads (plain SQL and the report; no keys) ------------------------------
def _participants(survey) -> list[tuple]:
    """(user_id, xmin) of the participations, in the order members joined (serial id)."""
    return _sql(
        "SELECT user_id, xmin::text::bigint FROM surveys_participation WHERE survey_id = %s "
        "ORDER BY id",
        [survey.pk],
    )


def _responses(survey) -> list[dict]:
    """Every readable response with every signal a dump holds, and its content (the number)."""
    rows = _sql(
        "SELECT r.id, r.ctid::text, r.xmin::text::bigint, r.created_at, r.submitted_at, "
        "r.updated_at, pg_column_size(r.*), "
        "(SELECT min(a.id) FROM surveys_answer a WHERE a.response_id = r.id), "
        "(SELECT min(a.ctid)::text FROM surveys_answer a WHERE a.response_id = r.id), "
        "(SELECT a.number FROM surveys_answer a WHERE a.response_id = r.id "
        " AND a.question_id = %s) "
        "FROM surveys_response r WHERE r.survey_id = %s",
        [survey.q["n"].id, survey.pk],
    )
    keys = ("id", "ctid", "xmin", "created", "submitted", "updated", "size", "answer_id")
    out = []
    for row in rows:
        item = dict(zip(keys, row[:8], strict=True))
        page, slot = row[1].strip("()").split(",")
        item["ctid"] = (int(page), int(slot))
        page, slot = row[8].strip("()").split(",")
        item["answer_ctid"] = (int(page), int(slot))
        item["content"] = int(row[9])
        out.append(item)
    return out


#: What the attacker read of the drafts right after each save (filled by the writers).
DRAFTS_READ: list[dict] = []


def _read_drafts(survey) -> dict:
    """One look at the drafts: each draft row paired with a participation by transaction id,
    and the number answered in it when its content can be read without keys."""
    members = {xmin: user for user, xmin in _participants(survey)}
    qid = survey.q["n"].id
    readable, paired, sizes = {}, 0, set()
    for xmin, answers in _sql(
        "SELECT xmin::text::bigint, answers::text FROM surveys_response "
        "WHERE survey_id = %s AND status = 'draft'",
        [survey.pk],
    ):
        paired += xmin in members
        if xmin in members:
            readable[members[xmin]] = json.loads(answers)[qid]
    for xmin, sealed in _sql(
        "SELECT xmin::text::bigint, sealed FROM surveys_sealeddraft WHERE survey_id = %s",
        [survey.pk],
    ):
        paired += xmin in members
        sizes.add(len(bytes(sealed)))
        if qid.encode() in bytes(sealed) and xmin in members:  # plaintext JSON inside
            readable[members[xmin]] = bytes(sealed)
    return {"readable": readable, "paired": paired, "sizes": sizes}


def _report_values(survey) -> set[int]:
    """The numbers the moderator's report shows (a distribution of the number question)."""
    report = survey_report(survey, include_text=False)
    question = next(q for q in report.questions if q.id == survey.q["n"].id)
    return {int(point["value"]) for point in question.distribution}


SIGNALS: dict[str, Callable[[dict], object]] = {
    "id": lambda r: r["id"],
    "ctid": lambda r: r["ctid"],
    "xmin": lambda r: r["xmin"],
    "created_at": lambda r: r["created"],
    "submitted_at": lambda r: r["submitted"],
    "updated_at": lambda r: r["updated"],
    "answer id": lambda r: r["answer_id"],
    "answer ctid": lambda r: r["answer_ctid"],
    "size": lambda r: r["size"],
}


def _attack(survey, members, snapshots) -> dict[str, int]:
    """How many members each attack names correctly (member ``i`` gave content ``i``)."""
    truth = {membership.user_id: i for i, membership in enumerate(members, start=1)}
    participants = _participants(survey)
    responses = _responses(survey)
    assert len(responses) == N and len(participants) == N
    named: dict[str, int] = {}
    for name, signal in SIGNALS.items():
        # ties (a batch shares its xmin and timestamps) broken by the random id
        ordered = sorted(responses, key=lambda r, signal=signal: (signal(r), r["id"]))
        named[name] = sum(
            truth[user_id] == response["content"]
            for (user_id, _x), response in zip(participants, ordered, strict=True)
        )
    # the same transaction id on a participation and a response names the member for sure
    by_xmin = {}
    for response in responses:
        by_xmin.setdefault(response["xmin"], []).append(response["content"])
    named["same xmin"] = sum(
        by_xmin.get(xmin) == [truth[user_id]] for user_id, xmin in participants
    )
    # the report read after each response, with the participation list: member i's answer is
    # among the values that first showed after i joined; named when that set has one value
    sure = 0
    shown: set[int] = set()
    pending: list[int] = []
    for i, values in enumerate(snapshots, start=1):
        pending.append(i)
        new = values - shown
        if new:
            if len(pending) == 1 and new == set(pending):
                sure += 1
            shown |= values
            pending = []
    named["report after each response"] = sure
    return named


def _run(community, write) -> tuple[dict[str, int], object]:
    survey = _survey(community)
    members = [MembershipFactory(community=community) for _ in range(N)]
    snapshots = []
    for i, membership in enumerate(members, start=1):
        write(survey, membership, i)
        snapshots.append(_report_values(survey))
    return _attack(survey, members, snapshots), survey


def _submit(survey, membership, i: int) -> None:
    """Save a draft of the answers, let the attacker look, then submit the stored draft."""
    draft = services.response_save_draft(
        membership=membership, survey=survey, answers=_answers(survey, i)
    )
    DRAFTS_READ.append(_read_drafts(survey))
    services.response_submit(
        membership=membership, survey=survey, answers=None, token=draft.new_token
    )


def test_attacker_with_the_database_links_nobody(needs_postgres, community):
    box_sizes: set[int] = set()
    DRAFTS_READ.clear()

    def write(survey, membership, i):
        _submit(survey, membership, i)
        box_sizes.update(
            size
            for (size,) in _sql(
                "SELECT octet_length(sealed) FROM surveys_sealedresponse WHERE survey_id = %s",
                [survey.pk],
            )
        )

    named, survey = _run(community, write)
    assert not SealedResponse.objects.exists()  # 30 = 6 full batches of 5, all mixed
    for name in SIGNALS:
        assert named[name] <= CHANCE_CEILING, (name, named)
    assert named["same xmin"] == 0, named
    assert named["report after each response"] == 0, named
    # every waiting response has the same size, whatever its text
    assert len(box_sizes) == 1, box_sizes
    # the report moved in steps of k: one distinct timestamp per batch
    assert len({r["submitted"] for r in _responses(survey)}) <= N // K
    # drafts: each was there to be paired with its member, but nothing in it could be read,
    # all had one size, and none is left after the submissions
    assert len(DRAFTS_READ) == N and all(look["paired"] == 1 for look in DRAFTS_READ)
    assert not any(look["readable"] for look in DRAFTS_READ), DRAFTS_READ
    assert len(set().union(*(look["sizes"] for look in DRAFTS_READ))) == 1
    assert not SealedDraft.objects.exists()
    assert not Response.objects.filter(status=ResponseStatus.DRAFT).exists()
    # every response was submitted from its stored draft: the contents made it through
    assert sorted(r["content"] for r in _responses(survey)) == list(range(1, N + 1))


def test_control_the_same_attacker_links_everyone_in_the_old_storage_shape(
    needs_postgres, community
):
    DRAFTS_READ.clear()
    named, _survey_ = _run(community, _write_the_old_way)
    # a plaintext draft, paired by transaction id, named its member before they submitted
    drafts_named = {user: n for look in DRAFTS_READ for user, n in look["readable"].items()}
    assert len(drafts_named) == N, drafts_named
    assert named["ctid"] == named["xmin"] == named["created_at"] == N, named
    assert named["answer id"] == named["answer ctid"] == N, named
    assert named["same xmin"] == N, named
    # the report's floor (k = 5) hides the first four; from then on each response shows alone
    assert named["report after each response"] == N - K, named
