"""Exports run on a real Celery worker (Redis broker, PostgreSQL test database)."""

from __future__ import annotations

import csv
import io

import pytest
from django.db import transaction

from surveys import services
from surveys.models import Export, ExportStatus
from tests.factories import MembershipFactory
from tests.surveys.factories import make_survey
from tests.waiting import wait_for

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def shared_media(tmp_path, monkeypatch, settings):
    """One EXPORT_ROOT for this process and the worker (which reads it from the environment)."""
    monkeypatch.setenv("EXPORT_ROOT", str(tmp_path))
    settings.EXPORT_ROOT = tmp_path
    return tmp_path


def test_export_runs_on_worker(shared_media, celery_worker_process, community):
    survey = make_survey(
        community,
        [
            {"key": "c", "type": "multiple_choice", "title": "喜欢", "choices": ["茶", "咖啡"]},
            {"key": "n", "type": "number", "title": "杯数"},
        ],
    )
    for i in range(25):
        services.response_submit(
            membership=MembershipFactory(community=community),
            survey=survey,
            answers={
                survey.q["c"].id: {"choices": [survey.c["c"]["茶"].id, survey.c["c"]["咖啡"].id]},
                survey.q["n"].id: i,
            },
        )
    moderator = MembershipFactory(community=community, tier="moderator")
    with transaction.atomic():
        export = services.export_request(actor=moderator, survey_id=survey.pk, format="csv")
    wait_for(
        lambda: Export.objects.get(pk=export.pk).status in (ExportStatus.DONE, ExportStatus.FAILED),
        timeout=60,
        message=lambda: celery_worker_process.output,
    )
    export.refresh_from_db()
    assert export.status == ExportStatus.DONE, export.error
    assert (export.rows_done, export.rows_total) == (25, 25)
    with export.file.open("rb") as handle:
        rows = list(csv.reader(io.StringIO(handle.read().decode("utf-8-sig"))))
    assert rows[0][-2:] == ["喜欢", "杯数"]
    assert rows[1][-2:] == ["茶; 咖啡", "0"]
    assert len(rows) == 26
    assert Export.objects.count() == 1


def test_export_lost_to_a_broker_outage_is_run_by_the_worker_after_the_sweep(
    shared_media, celery_worker_process, community
):
    """The request commits while the broker is down (robust: no error, export pending); once
    the broker is back the sweep queues it again and the real worker writes the file."""
    from datetime import timedelta

    from django.conf import settings
    from django.utils import timezone

    from tests.surveys.test_exports import RANDOM_NAME, broker_down

    survey = make_survey(community, [{"key": "t", "type": "short_text", "title": "建议"}])
    services.response_submit(
        membership=MembershipFactory(community=community),
        survey=survey,
        answers={survey.q["t"].id: "好"},
    )
    moderator = MembershipFactory(community=community, tier="moderator")
    with broker_down(), transaction.atomic():
        export = services.export_request(actor=moderator, survey_id=survey.pk, format="csv")
    export.refresh_from_db()
    assert (export.status, export.attempts) == (ExportStatus.PENDING, 1)

    later = timezone.now() + timedelta(minutes=settings.EXPORT_LEASE_MINUTES + 1)
    with transaction.atomic():
        assert services.exports_sweep(now=later)["requeued"] == 1
    wait_for(
        lambda: Export.objects.get(pk=export.pk).status in (ExportStatus.DONE, ExportStatus.FAILED),
        timeout=60,
    )
    export.refresh_from_db()
    assert (export.status, export.attempts, export.rows_done) == (ExportStatus.DONE, 2, 1)
    assert RANDOM_NAME.match(export.file.name)
    assert (shared_media / export.file.name).is_file()  # written by the worker, privately
