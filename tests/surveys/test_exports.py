"""Export files: private random names, the checked download, robust queueing, the sweep
(lost exports queued again, given up after the last attempt, files deleted after retention)."""

from __future__ import annotations

import re
import socket
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.files.base import ContentFile
from django.db import connection, connections, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from community.celery import app as celery_app
from community.exports import stored_name
from surveys import services, tasks
from surveys.exports import ExportSuperseded, write_export
from surveys.models import Export, ExportStatus, export_storage
from tests.conftest import _drop_celery_connections
from tests.factories import CommunityFactory, MembershipFactory
from tests.surveys.factories import make_survey

pytestmark = pytest.mark.django_db

RANDOM_NAME = re.compile(r"^survey-exports/[A-Za-z0-9_-]{32}\.(csv|xlsx)$")


@pytest.fixture
def roots(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.STATIC_ROOT = tmp_path / "static"
    settings.EXPORT_ROOT = tmp_path / "private"
    return tmp_path


@pytest.fixture
def survey(community):
    survey = make_survey(community, [{"key": "t", "type": "short_text", "title": "建议"}])
    for text in ("好", "很好"):
        services.response_submit(
            membership=MembershipFactory(community=community),
            survey=survey,
            answers={survey.q["t"].id: text},
        )
    return survey


@pytest.fixture
def moderator(community):
    return MembershipFactory(community=community, tier="moderator", user__is_staff=True)


def _export(survey, actor, django_capture_on_commit_callbacks, format="csv") -> Export:
    with django_capture_on_commit_callbacks(execute=True):
        export = services.export_request(actor=actor, survey_id=survey.pk, format=format)
    export.refresh_from_db()
    return export


def _admin(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


# --- where and how files are stored --------------------------------------------------------------
def test_files_get_random_names_in_the_private_root(
    roots, survey, moderator, django_capture_on_commit_callbacks
):
    first = _export(survey, moderator, django_capture_on_commit_callbacks)
    second = _export(survey, moderator, django_capture_on_commit_callbacks, format="xlsx")
    assert first.status == second.status == ExportStatus.DONE
    for export in (first, second):
        assert RANDOM_NAME.match(export.file.name), export.file.name
        assert survey.pk not in export.file.name
        assert Path(export.file.path).is_relative_to(roots / "private")
        assert Path(export.file.path).stat().st_mode & 0o077 == 0  # owner only
    assert first.file.name.rsplit(".")[0] != second.file.name.rsplit(".")[0]
    assert not (roots / "media").exists()  # nothing written where the web server looks
    with pytest.raises(ValueError):
        _ = first.file.url  # no URL at all: only the checked view streams it


def test_export_root_is_outside_media_and_static():
    export_root = Path(django_settings.EXPORT_ROOT).resolve()
    for public in (django_settings.MEDIA_ROOT, django_settings.STATIC_ROOT):
        assert not export_root.is_relative_to(Path(public).resolve())


# --- the download view ------------------------------------------------------------------------
def test_download_streams_to_moderators_of_the_community_only(
    roots, survey, community, moderator, django_capture_on_commit_callbacks
):
    export = _export(survey, moderator, django_capture_on_commit_callbacks)
    url = reverse("admin:surveys_survey_export_download", args=[survey.pk, export.pk])

    response = _admin(moderator.user).get(url)
    assert response.status_code == 200
    assert {"private", "no-store"} <= set(response["Cache-Control"].replace(" ", "").split(","))
    assert "attachment" in response["Content-Disposition"]
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    assert "很好" in body

    member = MembershipFactory(community=community, tier="member", user__is_staff=True)
    assert _admin(member.user).get(url).status_code in (302, 404)  # no admin access at all
    stranger = MembershipFactory(tier="moderator", user__is_staff=True)  # another community
    assert _admin(stranger.user).get(url).status_code == 404
    muted = MembershipFactory(
        community=community, tier="admin", status="muted", user__is_staff=True
    )
    assert _admin(muted.user).get(url).status_code in (302, 404)
    assert Client().get(url).status_code == 302  # to the login page


def test_download_service_refuses_other_communities_and_members(
    roots, survey, community, moderator, django_capture_on_commit_callbacks
):
    from community.errors import DomainError

    export = _export(survey, moderator, django_capture_on_commit_callbacks)
    handle, name = services.export_file(actor=moderator, survey_id=survey.pk, export_id=export.pk)
    handle.close()
    assert name.startswith("问卷-") and name.endswith(".csv")
    for actor in (
        MembershipFactory(community=community, tier="member"),
        MembershipFactory(community=CommunityFactory(), tier="owner"),
        None,
    ):
        with pytest.raises(DomainError):
            services.export_file(actor=actor, survey_id=survey.pk, export_id=export.pk)


def test_download_name_uses_the_communitys_time_zone(
    roots, survey, community, moderator, django_capture_on_commit_callbacks
):
    community.time_zone = "America/New_York"
    community.save()
    export = _export(survey, moderator, django_capture_on_commit_callbacks)
    Export.objects.filter(pk=export.pk).update(created_at=datetime(2030, 7, 4, 16, 0, tzinfo=UTC))
    moderator.community.refresh_from_db()
    handle, name = services.export_file(actor=moderator, survey_id=survey.pk, export_id=export.pk)
    handle.close()
    assert name == "问卷-20300704-1200.csv"  # Shanghai would say 20300705-0000


# --- queueing after commit --------------------------------------------------------------------
@contextmanager
def broker_down():
    """Point this process's Celery app at a broker that refuses connections (a closed port)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    conf = celery_app.conf
    old = (
        conf.task_always_eager,
        conf.broker_url,
        conf.task_publish_retry,
        conf.broker_transport_options,
    )
    conf.task_always_eager = False
    conf.broker_url = f"redis://127.0.0.1:{port}/0"
    conf.task_publish_retry = False
    conf.broker_transport_options = {"max_retries": 0}
    _drop_celery_connections(celery_app)
    try:
        yield
    finally:
        (
            conf.task_always_eager,
            conf.broker_url,
            conf.task_publish_retry,
            conf.broker_transport_options,
        ) = old
        _drop_celery_connections(celery_app)


def test_broker_outage_after_commit_does_not_fail_the_request_and_the_sweep_recovers(
    roots, survey, moderator, django_capture_on_commit_callbacks
):
    from surveys.tasks import run_export

    ran_after = []
    with broker_down():
        # Control: the same queueing without robust=True raises out of the commit hooks.
        with (
            pytest.raises(Exception, match="111|refused|Connection"),
            django_capture_on_commit_callbacks(execute=True),
        ):
            transaction.on_commit(lambda: run_export.delay("none"))
        with django_capture_on_commit_callbacks(execute=True):
            export = services.export_request(actor=moderator, survey_id=survey.pk, format="csv")
            transaction.on_commit(lambda: ran_after.append(True))
    assert ran_after == [True]  # later after-commit work still ran
    export.refresh_from_db()
    assert (export.status, export.attempts) == (ExportStatus.PENDING, 1)

    # Within the lease nothing happens; past it the sweep queues it again (broker back).
    assert services.exports_sweep()["requeued"] == 0
    later = timezone.now() + timedelta(minutes=django_settings.EXPORT_LEASE_MINUTES + 1)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.exports_sweep(now=later)["requeued"] == 1
    export.refresh_from_db()
    assert (export.status, export.attempts, export.rows_done) == (ExportStatus.DONE, 2, 2)


# --- the sweep ------------------------------------------------------------------------------------
def _stuck(export: Export, *, status: str, attempts: int, minutes: int) -> None:
    Export.objects.filter(pk=export.pk).update(
        status=status,
        attempts=attempts,
        heartbeat_at=timezone.now() - timedelta(minutes=minutes),
        file="",
        finished_at=None,
    )


def test_sweep_requeues_stuck_exports_and_fails_them_after_the_last_attempt(
    roots, survey, moderator, settings, django_capture_on_commit_callbacks
):
    settings.EXPORT_LEASE_MINUTES = 15
    settings.EXPORT_MAX_ATTEMPTS = 3
    lost, crashed, hopeless, fresh = (
        _export(survey, moderator, django_capture_on_commit_callbacks) for _ in range(4)
    )
    _stuck(lost, status=ExportStatus.PENDING, attempts=1, minutes=20)  # message lost
    _stuck(crashed, status=ExportStatus.RUNNING, attempts=2, minutes=20)  # worker killed
    _stuck(hopeless, status=ExportStatus.RUNNING, attempts=3, minutes=20)
    _stuck(fresh, status=ExportStatus.RUNNING, attempts=1, minutes=5)  # still working

    with django_capture_on_commit_callbacks(execute=True) as queued:
        result = tasks.exports_sweep.delay().get()
    assert result == {"requeued": 2, "failed": 1, "expired": 0}
    assert len(queued) == 2
    rows = {e.pk: e for e in Export.objects.all()}
    assert (rows[lost.pk].status, rows[lost.pk].attempts) == (ExportStatus.DONE, 2)
    assert (rows[crashed.pk].status, rows[crashed.pk].attempts) == (ExportStatus.DONE, 3)
    assert rows[hopeless.pk].status == ExportStatus.FAILED
    assert "3" in rows[hopeless.pk].error
    assert rows[fresh.pk].status == ExportStatus.RUNNING  # inside its lease: left alone
    with django_capture_on_commit_callbacks(execute=True):
        assert services.exports_sweep() == {"requeued": 0, "failed": 0, "expired": 0}


def test_a_run_that_lost_its_lease_keeps_nothing(
    roots, survey, moderator, settings, django_capture_on_commit_callbacks
):
    export = _export(survey, moderator, django_capture_on_commit_callbacks)
    _stuck(export, status=ExportStatus.RUNNING, attempts=1, minutes=60)
    slow = Export.objects.select_related("survey__community").get(pk=export.pk)  # attempt 1
    services.exports_sweep()  # no commit hooks run: attempt 2 is queued, not started
    files_before = sorted(p.name for p in (roots / "private").rglob("*") if p.is_file())

    with pytest.raises(ExportSuperseded):
        write_export(slow)  # the old worker wakes up and finishes its file
    export.refresh_from_db()
    assert (export.status, export.attempts, export.file.name) == (ExportStatus.PENDING, 2, "")
    files_after = sorted(p.name for p in (roots / "private").rglob("*") if p.is_file())
    # Its file was deleted again (the attempt's name is fixed: an HMAC of export and attempt,
    # so what the faked attempt 1 had stored before is that same name, gone too).
    assert set(files_after) <= set(files_before)
    assert stored_name(slow).rsplit("/", 1)[-1] not in files_after


def test_sweep_deletes_files_past_retention(
    roots, survey, moderator, settings, django_capture_on_commit_callbacks
):
    settings.EXPORT_RETENTION_DAYS = 7
    old, recent = (_export(survey, moderator, django_capture_on_commit_callbacks) for _ in range(2))
    Export.objects.filter(pk=old.pk).update(finished_at=timezone.now() - timedelta(days=8))
    Export.objects.filter(pk=recent.pk).update(finished_at=timezone.now() - timedelta(days=6))
    old_path, recent_path = Path(old.file.path), Path(recent.file.path)
    assert old_path.exists() and recent_path.exists()

    assert services.exports_sweep()["expired"] == 1
    old.refresh_from_db()
    recent.refresh_from_db()
    assert (old.status, old.file.name) == (ExportStatus.EXPIRED, "")
    assert not old_path.exists()
    assert recent.status == ExportStatus.DONE and recent_path.exists()
    url = reverse("admin:surveys_survey_export_download", args=[survey.pk, old.pk])
    assert _admin(moderator.user).get(url).status_code == 404
    assert services.exports_sweep()["expired"] == 0


def test_sweep_runs_on_the_beat_schedule():
    entry = django_settings.CELERY_BEAT_SCHEDULE["exports-sweep"]
    assert entry["task"] == tasks.exports_sweep.name
    assert entry["schedule"] <= 15 * 60


def test_storage_alias_is_private(roots):
    storage = export_storage()
    name = storage.save("survey-exports/x.csv", ContentFile(b"a"))
    assert Path(storage.path(name)).is_relative_to(roots / "private")
    with pytest.raises(ValueError):
        storage.url(name)


# --- two deliveries of one task at once -----------------------------------------------------------
@pytest.mark.django_db(transaction=True)
def test_two_deliveries_at_once_write_the_export_once(roots, community):
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL (set DATABASE_URL)")
    survey = make_survey(community, [{"key": "t", "type": "short_text", "title": "建议"}])
    moderator = MembershipFactory(community=community, tier="moderator")
    export = Export.objects.create(
        community=community, survey=survey, requested_by=moderator.user, format="csv"
    )
    barrier = threading.Barrier(4)

    def deliver(_):
        try:
            barrier.wait()
            return services.export_run(export_id=export.pk)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(4) as pool:
        outcomes = sorted(pool.map(deliver, range(4)))
    assert outcomes == ["done", "skipped", "skipped", "skipped"]
    assert Export.objects.get().status == ExportStatus.DONE
    assert len([p for p in (roots / "private").rglob("*") if p.is_file()]) == 1


# --- files written before the private storage ---------------------------------------------------
def test_migration_moves_old_files_out_of_media(roots, survey, moderator):
    import importlib

    from django.apps import apps
    from django.core.files.storage import storages

    migration = importlib.import_module("surveys.migrations.0002_export_private_storage_lease")
    public = storages["default"]
    old_name = public.save(
        f"survey-exports/survey-{survey.pk}-20260101-120000.csv", ContentFile(b"x")
    )
    export = Export.objects.create(
        community=survey.community,
        survey=survey,
        requested_by=moderator.user,
        format="csv",
        status=ExportStatus.DONE,
        file=old_name,
    )
    assert Path(public.path(old_name)).is_relative_to(roots / "media")

    migration.move_files_out_of_media(apps, None)
    export.refresh_from_db()
    assert RANDOM_NAME.match(export.file.name)
    assert not public.exists(old_name)
    with export.file.open("rb") as handle:
        assert handle.read() == b"x"
