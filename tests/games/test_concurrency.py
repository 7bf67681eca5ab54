"""Two draws at once make one result: real threads on PostgreSQL, the draw row's lock."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from community.models import Notification
from games import services
from games.models import DrawRound, Entry, Winner
from tests.factories import MembershipFactory


def _run_together(*calls):
    barrier = threading.Barrier(len(calls))
    errors: list = []

    def run(call):
        try:
            barrier.wait()
            call()
        except Exception as exc:  # noqa: BLE001  (collected for the assertion)
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(c,)) for c in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return errors


@pytest.mark.django_db(transaction=True)
def test_concurrent_draws_make_one_result(settings):
    settings.WECHAT_CONTENT_CHECK = False
    admin = MembershipFactory(tier="admin")
    for _ in range(8):
        MembershipFactory(community=admin.community)
    draw = services.draw_create(
        actor=admin,
        title="抽奖",
        prizes=[{"name": "奖", "quantity": 3}],
        closes_at=timezone.now() + timedelta(hours=1),
    )
    now = timezone.now() + timedelta(hours=2)
    errors = _run_together(
        *[lambda: services.draw_perform(actor=None, draw_id=draw.pk, now=now)] * 3,
        lambda: services.draws_sweep(now=now),
        lambda: services.draws_sweep(now=now),
    )
    assert errors == []
    assert Entry.objects.filter(draw=draw).count() == 8
    assert Winner.objects.filter(draw=draw).count() == 3
    assert DrawRound.objects.filter(draw=draw).count() == 2
    assert Notification.objects.filter(kind="draw_won").count() == 3


@pytest.mark.django_db(transaction=True)
def test_concurrent_organizers_draw_now_once(settings):
    settings.WECHAT_CONTENT_CHECK = False
    admin = MembershipFactory(tier="admin")
    other = MembershipFactory(tier="owner", community=admin.community)
    for _ in range(5):
        MembershipFactory(community=admin.community)
    draw = services.draw_create(
        actor=admin,
        title="抽奖",
        prizes=[{"name": "奖", "quantity": 2}],
        closes_at=timezone.now() + timedelta(hours=1),
    )
    errors = _run_together(
        lambda: services.draw_perform(actor=admin, draw_id=draw.pk),
        lambda: services.draw_perform(actor=other, draw_id=draw.pk),
    )
    assert [e.code for e in errors] == ["draw_already_drawn"]
    assert Winner.objects.filter(draw=draw).count() == 2
    assert Notification.objects.filter(kind="draw_won").count() == 2


@pytest.mark.django_db(transaction=True)
def test_concurrent_redraw_sweeps_forfeit_once(settings):
    settings.WECHAT_CONTENT_CHECK = False
    admin = MembershipFactory(tier="admin")
    for _ in range(6):
        MembershipFactory(community=admin.community)
    draw = services.draw_create(
        actor=admin,
        title="抽奖",
        prizes=[{"name": "奖", "quantity": 2}],
        closes_at=timezone.now() + timedelta(hours=1),
        claim_hours=1,
    )
    services.draw_perform(actor=admin, draw_id=draw.pk)
    later = timezone.now() + timedelta(hours=3)
    errors = _run_together(*[lambda: services.draws_sweep(now=later)] * 3)
    assert errors == []
    assert Winner.objects.filter(draw=draw, forfeited_at__isnull=False).count() == 2
    assert Winner.objects.filter(draw=draw).count() == 4
    assert Notification.objects.filter(kind="draw_won").count() == 4
