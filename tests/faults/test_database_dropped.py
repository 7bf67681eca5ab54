"""PostgreSQL connections dropped under load: the app's backends are terminated
(``pg_terminate_backend``) while members vote through gunicorn. Requests in flight answer 503
``database_unavailable`` in our error shape, the next ones succeed without restarting the app,
and nothing is half-written (tallies equal the stored ballots)."""

from __future__ import annotations

import httpx
import psycopg
from django.db import connection

from tests.faults.storm import Storm, assert_tallies_exact, election
from tests.waiting import wait_for

MEMBERS = 12


def _terminate_app_backends(application_name: str) -> int:
    """Terminate the app's connections to the test database, and only those (found by the
    ``application_name`` its processes connect with), from a connection of our own; return
    once they are gone (``pg_terminate_backend`` only signals them)."""
    db = connection.settings_dict
    with psycopg.connect(
        host=db["HOST"] or "127.0.0.1",
        port=db["PORT"] or 5432,
        user=db["USER"] or "postgres",
        dbname=db["NAME"],
        autocommit=True,
    ) as admin:
        pids = [
            pid
            for (pid,) in admin.execute(
                "SELECT pid FROM pg_stat_activity "
                "WHERE datname = %s AND application_name = %s AND pid <> pg_backend_pid()",
                [db["NAME"], application_name],
            )
        ]
        for pid in pids:
            admin.execute("SELECT pg_terminate_backend(%s)", [pid])

        def gone() -> bool:
            left = admin.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(%s)", [pids]
            ).fetchone()
            return left[0] == 0

        wait_for(gone, timeout=30, interval=0.02, message=f"backends {pids} to exit")
    return len(pids)


def test_dropped_connections_answer_503_then_recover(live_app):
    vote = election(MEMBERS)
    app_name = "faults-db-drop"
    # Persistent connections with health checks (DB_POOL=0, CONN_MAX_AGE). With psycopg's pool
    # (DB_POOL=1) a request right after the drop can wait out the pool's timeout: every dead
    # idle connection it is handed fails the check and adds a growing backoff (1, 2, 4 s...)
    # before the next one, so getconn gives up after 10 s (see the README's fault notes).
    app = live_app(workers=2, threads=4, DB_POOL="0", CONN_MAX_AGE="60", PGAPPNAME=app_name)
    terminated = 0
    with Storm(app.base_url, vote) as storm:
        wait_for(lambda: storm.sent >= 30, timeout=60, message="votes before the drop")

        def some_request_failed() -> bool:
            # Keep dropping the app's connections until a request in flight was hit.
            nonlocal terminated
            terminated += _terminate_app_backends(app_name)
            return vote.statuses()[503] > 0

        wait_for(
            some_request_failed,
            timeout=60,
            interval=0.3,
            message=lambda: f"a 503 during drops (answers: {vote.statuses()})",
        )
        after_drops = storm.sent
        wait_for(lambda: storm.sent >= after_drops + 30, timeout=60, message="votes after")

    statuses = vote.statuses()
    assert terminated > 0
    assert set(statuses) <= {200, 503}, statuses  # never a 500, never no answer
    assert statuses[503] > 0
    failures = {(status, code) for _, status, code in vote.answers() if status != 200}
    assert failures == {(503, "database_unavailable")}, failures
    assert storm.first_error_body[503] == {  # the one error shape, in English on request
        "type": "server_error",
        "errors": [
            {
                "code": "database_unavailable",
                "detail": "The service is briefly unavailable. Please try again in a moment.",
                "attr": None,
            }
        ],
    }

    # Right after a drop the next requests succeed: no stale connection is handed out again.
    _terminate_app_backends(app_name)
    member = vote.voters[0]
    with httpx.Client(
        base_url=app.base_url, headers={"Authorization": f"Bearer {member.token}"}, timeout=30
    ) as client:
        for i in range(8):
            option = vote.options[i % 2]
            response = client.put(
                f"/api/v1/polls/{vote.poll.pk}/ballot", json={"option_ids": [option]}
            )
            assert response.status_code == 200, response.text
            member.answers.append((option, 200, ""))

    assert_tallies_exact(vote, ambiguous_statuses=frozenset({503}))
