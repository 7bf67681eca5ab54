"""Lucky draws end to end over HTTP: start, join, draw, find my entry, claim, recompute."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from community.models import Notification
from community.schedule import JOBS
from games import services
from games.models import Draw, DrawRound, Entry, Winner
from games.verify import commitment_of, entries_hash, verify_publication
from tests.games.helpers import create_draw

pytestmark = pytest.mark.django_db


def _members(make_member, n):
    return [make_member() for _ in range(n)]


def test_members_draw_end_to_end(community, admin, make_member, soon, tmp_path):
    admin_m, admin_c = admin
    members = _members(make_member, 6)
    created = create_draw(admin_c, community, soon)
    assert created["status"] == "open"
    assert len(created["commitment"]) == 64
    assert created["rounds"][0]["seed"] is None
    assert created["entries_hash"] is None
    # a member sees the draw, the commitment and that they would be in; the organizer is not
    m0, c0 = members[0]
    detail = c0.get(f"/api/v1/draws/{created['id']}").json()
    assert detail["me"]["entered"] is True
    assert detail["commitment"] == created["commitment"]
    assert admin_c.get(f"/api/v1/draws/{created['id']}").json()["me"]["entered"] is False

    drawn = admin_c.post(f"/api/v1/draws/{created['id']}/draw").json()
    assert drawn["status"] == "drawn"
    assert drawn["entry_count"] == 6
    assert len(drawn["results"]) == 4
    seed = drawn["rounds"][0]["seed"]
    assert commitment_of(seed) == created["commitment"]
    assert drawn["rounds"][1]["seed"] is None  # the redraw round is committed, not revealed

    publication = c0.get(f"/api/v1/draws/{created['id']}/publication").json()
    assert publication["entries_hash"] == entries_hash(publication["entries"])
    result = verify_publication(publication)
    assert result.ok, result.problems
    assert [(p, e) for _n, p, e in result.winners] == [
        (r["prize_id"], r["entry_id"]) for r in drawn["results"]
    ]
    # each member finds their own entry in the list; winners see their prize
    winners = {r["entry_id"]: r["prize_name"] for r in drawn["results"]}
    for _m, client in members:
        me = client.get(f"/api/v1/draws/{created['id']}").json()["me"]
        assert me["entry_id"] in publication["entries"]
        assert me["entered"] is True
        assert (me["prize"] or {}).get("name") == winners.get(me["entry_id"])
    # notified once each
    assert Notification.objects.filter(kind="draw_won").count() == 4
    # the command recomputes the same winners
    path = tmp_path / "draw.json"
    with open(path, "w") as handle:
        json.dump(publication, handle)
    call_command("draw_verify", file=str(path))


def test_join_source_and_claim(community, admin, make_member, soon):
    _admin_m, admin_c = admin
    members = _members(make_member, 3)
    created = create_draw(
        admin_c, community, soon, source="joined", prizes=[{"name": "奖", "quantity": 2}]
    )
    url = f"/api/v1/draws/{created['id']}"
    for _m, client in members[:2]:
        assert client.put(f"{url}/entry").json()["me"]["joined"] is True
        assert client.put(f"{url}/entry").status_code == 200  # idempotent
    assert members[2][1].get(url).json()["me"]["entered"] is False
    drawn = admin_c.post(f"{url}/draw").json()
    assert drawn["entry_count"] == 2
    # entries are closed now
    assert members[2][1].put(f"{url}/entry").json()["errors"][0]["code"] == "draw_closed"
    for _m, client in members[:2]:
        claimed = client.post(f"{url}/claim")
        assert claimed.status_code == 200, claimed.json()
        assert client.post(f"{url}/claim").status_code == 200  # idempotent
    assert members[2][1].post(f"{url}/claim").json()["errors"][0]["code"] == "no_prize_to_claim"
    assert Winner.objects.filter(claimed_at__isnull=False).count() == 2


def test_redraw_after_claim_window_with_new_commitment(community, admin, make_member, soon):
    _admin_m, admin_c = admin
    members = _members(make_member, 5)
    created = create_draw(
        admin_c, community, soon, prizes=[{"name": "奖", "quantity": 2}], claim_hours=1
    )
    url = f"/api/v1/draws/{created['id']}"
    drawn = admin_c.post(f"{url}/draw").json()
    second_commitment = drawn["commitment"]
    assert second_commitment and second_commitment != created["commitment"]
    first = {r["entry_id"] for r in drawn["results"]}
    # one winner claims, the other lets the window pass
    by_entry = {c.get(url).json()["me"]["entry_id"]: c for _m, c in members}
    claimer, idler = sorted(first)
    assert by_entry[claimer].post(f"{url}/claim").status_code == 200
    later = timezone.now() + timedelta(hours=2)
    services.draws_sweep(now=later)
    services.draws_sweep(now=later)  # twice: nothing more happens
    after = admin_c.get(url).json()
    statuses = {r["entry_id"]: r["status"] for r in after["results"]}
    assert statuses[claimer] == "claimed"
    assert len(after["rounds"]) == 3 and after["rounds"][1]["seed"]
    assert commitment_of(after["rounds"][1]["seed"]) == second_commitment
    redrawn = [r for r in after["results"] if r["round"] == 2]
    assert len(redrawn) == 1 and redrawn[0]["entry_id"] not in first
    assert statuses[idler] == "forfeited"
    assert Notification.objects.filter(kind="draw_won").count() == 3
    assert by_entry[idler].post(f"{url}/claim").json()["errors"][0]["code"] == "no_prize_to_claim"
    publication = admin_c.get(f"{url}/publication").json()
    result = verify_publication(publication)
    assert result.ok, result.problems and result.rounds_checked == 2


def test_claim_after_deadline_refused_before_sweep(community, admin, make_member, soon):
    _admin_m, admin_c = admin
    member_m, member_c = make_member()
    created = create_draw(admin_c, community, soon, prizes=[{"name": "奖", "quantity": 1}])
    services.draw_perform(actor=None, draw_id=created["id"], now=soon)
    late = soon + timedelta(hours=100)
    with pytest.raises(Exception) as refused:
        services.winner_claim(actor=member_m, draw_id=created["id"], now=late)
    assert refused.value.code == "claim_window_passed"


def test_sweep_draws_after_close_and_notifies_once(community, admin, make_member, soon):
    _admin_m, admin_c = admin
    _members(make_member, 4)
    created = create_draw(admin_c, community, soon)
    job = next(job for job in JOBS if job.name == "draws-sweep")  # as beat runs it (eager)
    assert job.delay(now=soon - timedelta(minutes=1)).get() == {"drawn": 0, "forfeited": 0}
    assert admin_c.get(f"/api/v1/draws/{created['id']}").json()["status"] == "open"
    assert job.delay(now=soon).get() == {"drawn": 1, "forfeited": 0}
    assert job.delay(now=soon + timedelta(minutes=1)).get() == {"drawn": 0, "forfeited": 0}
    assert Notification.objects.filter(kind="draw_won").count() == 4
    assert Entry.objects.filter(draw_id=created["id"]).count() == 4
    assert Draw.objects.get(pk=created["id"]).status_at(soon) == "drawn"


def test_sources_and_exclusions(community, admin, make_member, soon):
    from polls.models import Ballot, Participation, Poll

    admin_m, admin_c = admin
    members = _members(make_member, 5)
    poll = Poll.objects.create(
        community=community,
        author=admin_m.user,
        title="?",
        kind="single",
        secret=True,
        closes_at=soon,
    )
    Participation.objects.create(community=community, poll=poll, user=members[0][0].user)
    Participation.objects.create(community=community, poll=poll, user=members[1][0].user)
    named = Poll.objects.create(
        community=community, author=admin_m.user, title="?", kind="single", closes_at=soon
    )
    Ballot.objects.create(community=community, poll=named, voter=members[2][0].user, choices={})
    draw = create_draw(
        admin_c,
        community,
        soon,
        source="poll_voters",
        source_id=poll.pk,
        excluded_member_ids=[members[1][0].pk],
    )
    out = admin_c.post(f"/api/v1/draws/{draw['id']}/draw").json()
    assert out["entry_count"] == 1
    draw2 = create_draw(admin_c, community, soon, source="poll_voters", source_id=named.pk)
    assert admin_c.post(f"/api/v1/draws/{draw2['id']}/draw").json()["entry_count"] == 1
    # winners of recent draws left out
    draw3 = create_draw(admin_c, community, soon, exclude_recent_winners_days=30)
    out3 = admin_c.post(f"/api/v1/draws/{draw3['id']}/draw").json()
    assert out3["entry_count"] == 5 - 2  # the two who just won


def test_event_and_survey_sources(community, admin, make_member, soon):
    from events import services as event_services
    from events.models import Registration
    from events.services.checkin import checkin_by_hand
    from surveys.models import Survey

    admin_m, admin_c = admin
    members = _members(make_member, 3)
    event = event_services.event_create(
        actor=admin_m, title="周六爬山", starts_at=soon + timedelta(days=1), capacity=2
    )
    for membership, _client in members:
        event_services.registration_put(actor=membership, event_id=event.pk)
    confirmed = create_draw(admin_c, community, soon, source="event_confirmed", source_id=event.pk)
    assert admin_c.post(f"/api/v1/draws/{confirmed['id']}/draw").json()["entry_count"] == 2
    checked = create_draw(admin_c, community, soon, source="event_checked_in", source_id=event.pk)
    assert admin_c.post(f"/api/v1/draws/{checked['id']}/draw").json()["errors"][0]["code"] == (
        "draw_no_entries"
    )
    first = Registration.objects.filter(event=event, status="confirmed").order_by("signed_up_at")[0]
    checkin_by_hand(actor=admin_m, event=event, registration_id=first.pk, now=event.starts_at)
    checked = create_draw(admin_c, community, soon, source="event_checked_in", source_id=event.pk)
    assert admin_c.post(f"/api/v1/draws/{checked['id']}/draw").json()["entry_count"] == 1
    anonymous = Survey.objects.create(community=community, title="匿名", anonymous=True)
    refused = admin_c.post(
        f"/api/v1/communities/{community.pk}/draws",
        {
            "title": "问卷抽奖",
            "prizes": [{"name": "奖", "quantity": 1}],
            "closes_at": soon.isoformat(),
            "source": "survey_respondents",
            "source_id": anonymous.pk,
        },
        format="json",
    )
    assert refused.json()["errors"][0]["code"] == "survey_anonymous"


def test_verify_detects_tampering(community, admin, make_member, soon, tmp_path):
    _admin_m, admin_c = admin
    _members(make_member, 6)
    created = create_draw(admin_c, community, soon)
    admin_c.post(f"/api/v1/draws/{created['id']}/draw")
    publication = admin_c.get(f"/api/v1/draws/{created['id']}/publication").json()
    assert verify_publication(publication).ok

    changed_seed = json.loads(json.dumps(publication))
    changed_seed["rounds"][0]["seed"] = "0" * 64
    assert not verify_publication(changed_seed).ok

    changed_list = json.loads(json.dumps(publication))
    changed_list["entries"] = sorted(changed_list["entries"][:-1] + ["f" * 16])
    problems = verify_publication(changed_list).problems
    assert any("hash" in p for p in problems)

    # a server that swaps the seed after the commitment is caught too
    round_ = DrawRound.objects.get(draw_id=created["id"], number=1)
    DrawRound.objects.filter(pk=round_.pk).update(seed="1" * 64)
    tampered = admin_c.get(f"/api/v1/draws/{created['id']}/publication").json()
    assert (
        "round 1: the seed does not match its commitment" in verify_publication(tampered).problems
    )
    path = tmp_path / "bad.json"
    with open(path, "w") as handle:
        json.dump(tampered, handle)
    with pytest.raises(SystemExit) as exited:
        call_command("draw_verify", file=str(path))
    assert exited.value.code == 1


def test_seed_sealed_at_rest(community, admin, soon):
    _admin_m, admin_c = admin
    created = create_draw(admin_c, community, soon)
    round_ = DrawRound.objects.get(draw_id=created["id"], number=1)
    assert round_.seed == ""
    raw = bytes(round_.sealed_seed)
    assert len(raw) > 64 and b"0123456789abcdef" not in raw
    from games.services.common import round_seed

    assert commitment_of(round_seed(round_)) == created["commitment"]
