"""Roll-ups keep every total; the chat-count import is all or nothing."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.db.models import Sum

from community.errors import DomainError, Forbidden
from community.models import Tier
from insights.models import COUNTERS, Grain, MemberDay, MemberPeriod
from insights.services.imports import messages_import
from insights.services.rollups import activity_rollup
from tests.factories import MembershipFactory, UserFactory
from tests.insights.conftest import day_counts


def _totals() -> dict[str, int]:
    days = MemberDay.objects.aggregate(**{c: Sum(c) for c in COUNTERS})
    periods = MemberPeriod.objects.filter(grain=Grain.WEEK).aggregate(
        **{c: Sum(c) for c in COUNTERS}
    )
    months = MemberPeriod.objects.filter(grain=Grain.MONTH).aggregate(
        **{c: Sum(c) for c in COUNTERS}
    )
    return {c: (days[c] or 0) + (periods[c] or 0) + (months[c] or 0) for c in COUNTERS}


@pytest.mark.django_db
def test_rollups_change_no_total(community):
    members = [MembershipFactory(community=community) for _ in range(3)]
    start = date(2024, 1, 1)
    rows = []
    for offset in range(0, 1000, 3):
        for i, m in enumerate(members):
            rows.append(
                MemberDay(
                    community=community,
                    user_id=m.user_id,
                    day=start + timedelta(days=offset + i),
                    votes=offset % 7,
                    visits=1 + i,
                    messages=offset % 5,
                )
            )
    MemberDay.objects.bulk_create(rows)
    active_days = MemberDay.objects.count()
    before = _totals()
    now = datetime(2026, 12, 1, 12, tzinfo=UTC)
    weeks, months = activity_rollup(now=now)
    assert weeks and months
    assert _totals() == before
    assert MemberDay.objects.filter(day__lt=date(2026, 6, 1)).count() == 0
    assert MemberDay.objects.count() < active_days
    assert MemberPeriod.objects.filter(grain=Grain.MONTH).exists()
    # active days are kept too (the cohort table counts them)
    kept = (
        MemberDay.objects.count()
        + sum(MemberPeriod.objects.filter(grain=Grain.WEEK).values_list("active_days", flat=True))
        + sum(MemberPeriod.objects.filter(grain=Grain.MONTH).values_list("active_days", flat=True))
    )
    assert kept == active_days
    assert activity_rollup(now=now) == (0, 0)  # nothing left to roll: idempotent
    assert _totals() == before


CSV = "date,nickname,messages\n2026-11-02,小明,12\n2026-11-02,{openid},3\n2026-11-03,小明,4\n"


@pytest.mark.django_db
def test_import_adds_message_counts_by_nickname_or_openid(community):
    admin = MembershipFactory(community=community, tier=Tier.ADMIN)
    ming = MembershipFactory(community=community, user=UserFactory(nickname="小明"))
    hong = MembershipFactory(community=community, user=UserFactory(openid="o-hong"))
    report = messages_import(actor=admin, text=CSV.format(openid="o-hong"))
    assert (report.applied, report.rows, report.messages, report.unmatched) == (True, 3, 19, [])
    assert day_counts(ming) == {"messages": 16}
    assert day_counts(hong) == {"messages": 3}


@pytest.mark.django_db
def test_import_with_an_unmatched_row_writes_nothing_and_names_it(community):
    admin = MembershipFactory(community=community, tier=Tier.ADMIN)
    MembershipFactory(community=community, user=UserFactory(nickname="小明"))
    MembershipFactory(community=community, user=UserFactory(nickname="重名"))
    MembershipFactory(community=community, user=UserFactory(nickname="重名"))
    text = CSV.format(openid="o-nobody") + "2026-11-04,重名,1\n"
    report = messages_import(actor=admin, text=text)
    assert not report.applied
    assert [(u.line, u.member) for u in report.unmatched] == [(3, "o-nobody"), (5, "重名")]
    assert MemberDay.objects.count() == 0


@pytest.mark.django_db
def test_import_refuses_a_malformed_file_and_a_plain_member(community):
    admin = MembershipFactory(community=community, tier=Tier.ADMIN)
    MembershipFactory(community=community, user=UserFactory(nickname="小明"))
    with pytest.raises(DomainError) as bad:
        messages_import(actor=admin, text="2026-11-02,小明,12\n2026-13-40,小明,1\n")
    assert bad.value.code == "invalid_csv" and "2" in bad.value.message
    assert MemberDay.objects.count() == 0
    member = MembershipFactory(community=community)
    with pytest.raises(Forbidden):
        messages_import(actor=member, text="2026-11-02,小明,12\n")
