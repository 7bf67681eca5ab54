"""Production settings: `check --deploy` is clean, secrets are required."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "community.settings",
    "DEBUG": "0",
    "SECRET_KEY": "a-long-random-production-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
    "BALLOT_KEY": "a-long-random-production-ballot-key-0123456789-abcdefghijklmnopqrstuvwxyz",
    "ALLOWED_HOSTS": "api.example.com",
    "DATABASE_URL": "postgres://app@db.example.com:5432/app",
    "REDIS_URL": "redis://cache.example.com:6379/0",
    "CELERY_BROKER_URL": "redis://cache.example.com:6379/1",
    "WECHAT_APPID": "wx123",
    "WECHAT_SECRET": "s3cret",
}


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    ignored = {*PRODUCTION_ENV, "DB_POOL", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    base = {k: v for k, v in os.environ.items() if k not in ignored}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_in_production():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_secret_key_is_required_without_debug():
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "SECRET_KEY"}
    result = manage("check", env=env)
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_ballot_key_is_required_without_debug():
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "BALLOT_KEY"}
    result = manage("check", env=env)
    assert result.returncode != 0
    assert "BALLOT_KEY" in result.stderr


def test_development_defaults_need_no_configuration():
    result = manage("check", env={"DJANGO_SETTINGS_MODULE": "community.settings", "DEBUG": "1"})
    assert result.returncode == 0, result.stderr
