"""Parallel warnings of one member cross the rule's threshold exactly once per crossing (real
threads on PostgreSQL), and the control shows the race without the member's row lock."""

from __future__ import annotations

import pytest
from django.db import connection

from community.models import Membership
from moderation.models import Escalation, MemberWarning
from moderation.services import case_decide
from tests.community.test_concurrency import run_in_threads
from tests.factories import CommunityFactory, MembershipFactory
from tests.moderation.helpers import open_case

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _postgres_only(settings):
    settings.WECHAT_CONTENT_CHECK = False
    if connection.vendor != "postgresql":
        pytest.skip("concurrency is proven on PostgreSQL")


def test_six_parallel_warnings_escalate_exactly_twice():
    community = CommunityFactory()
    target = MembershipFactory(community=community)
    mods = [MembershipFactory(community=community, tier="moderator") for _ in range(6)]
    cases = [open_case(community, target) for _ in range(6)]

    def call(mod, case):
        def run():
            actor = Membership.objects.select_related("community", "user").get(pk=mod.pk)
            case_decide(actor=actor, case_id=case.pk, decision="warn", reason="rude")

        return run

    run_in_threads([call(m, c) for m, c in zip(mods, cases, strict=True)])
    assert MemberWarning.objects.count() == 6
    escalations = list(Escalation.objects.all())
    assert len(escalations) == 2
    assert sorted(e.counted_warnings.count() for e in escalations) == [3, 3]
    assert MemberWarning.objects.filter(escalation__isnull=True).count() == 0
