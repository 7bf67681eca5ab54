"""Behind PgBouncer in transaction mode each transaction may run on another server session:
the settings switch off what needs a session (community/settings.py, ``DB_POOLER``), and the
code keeps none (no session advisory locks, no session ``SET``, no ``LISTEN``)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.community.test_settings import PRODUCTION_ENV, manage

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("community", "polls", "surveys", "events", "roles", "moderation")
SHOW = (
    "from django.conf import settings; import json; "
    "print(json.dumps({k: {'options': {o: v for o, v in d.get('OPTIONS', {}).items()}, "
    "'ssc': d.get('DISABLE_SERVER_SIDE_CURSORS', False), 'age': d.get('CONN_MAX_AGE'), "
    "'test': d.get('TEST', {})} for k, d in settings.DATABASES.items()}, default=str))"
)


def databases(**env: str) -> dict:
    result = manage("shell", "-c", SHOW, env={**PRODUCTION_ENV, **env})
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_behind_pgbouncer_no_server_side_cursors_prepared_statements_or_pool():
    default = databases(DB_POOLER="pgbouncer")["default"]
    assert default["ssc"] is True
    assert (
        "prepare_threshold" in default["options"]
        and default["options"]["prepare_threshold"] is None
    )
    assert "pool" not in default["options"]
    assert default["age"] == 60


def test_direct_connections_keep_the_psycopg_pool_and_prepare_only_when_asked():
    default = databases()["default"]
    assert default["options"]["pool"]["max_size"] == 8
    assert default["ssc"] is False
    # psycopg never prepares on its own; community.db.prepared asks for its statements.
    assert default["options"]["prepare_threshold"] == 2**31 - 1


def test_a_replica_url_adds_the_replica_alias_with_a_short_connect_timeout():
    found = databases(
        DB_POOLER="pgbouncer", DATABASE_REPLICA_URL="postgres://app@standby.example.com:5432/app"
    )
    assert set(found) == {"default", "replica"}
    replica = found["replica"]
    assert replica["options"]["connect_timeout"] == 2
    assert replica["ssc"] is False  # connected directly, not through the pooler
    assert replica["test"]["MIRROR"] == "default"
    assert set(databases()) == {"default"}


def test_no_session_state_in_the_code():
    """Session-level state would leak to whichever client gets the server connection next."""
    # SQL is written in capitals here: SET without LOCAL (an UPDATE's SET uses =), session
    # advisory locks, LISTEN, cursors held past their transaction.
    forbidden = re.compile(
        r"pg_(try_)?advisory_lock\(|pg_advisory_unlock|\bSET SESSION |\bSET (?!LOCAL)[a-z_.]+ TO "
        r"|\bLISTEN \w|WITH HOLD"
    )
    offenders = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if "migrations" not in path.parts
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if forbidden.search(line) and not line.lstrip().startswith("#")
    ]
    assert offenders == []
