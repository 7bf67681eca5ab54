"""Settings for the test run: production settings with test-only values filled in.

The database comes from DATABASE_URL like everywhere else (PostgreSQL in CI, SQLite when unset).
"""

import json
import os
import tempfile

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-for-production-0123456789")
os.environ.setdefault("BALLOT_KEY", "test-only-ballot-key-not-for-production-0123456789")
os.environ.setdefault("WECHAT_APPID", "wx-test-appid")
os.environ.setdefault("WECHAT_SECRET", "test-app-secret")
os.environ.setdefault("WECHAT_API_BASE", "http://127.0.0.1:9/")  # tests point it at a fake server
os.environ.setdefault("WECHAT_RETRIES", "1")
# psycopg's pool would keep connections to the database named before the test database
# replaced it; tests use plain connections.
os.environ.setdefault("DB_POOL", "0")
# Export files go to a private directory of this run (the real-worker tests' worker inherits it).
os.environ.setdefault("EXPORT_ROOT", tempfile.mkdtemp(prefix="wxc-exports-"))
# Eager in the test process; the real-worker tests start `celery worker` with
# TEST_CELERY_BROKER_URL set, which this line turns into its broker.
os.environ["CELERY_BROKER_URL"] = os.environ.get("TEST_CELERY_BROKER_URL", "")

from community.settings import *  # noqa: E402,F403

SECURE_SSL_REDIRECT = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# The shared Redis cache only for processes a fault test starts with REDIS_URL pointing at a
# Redis of its own (tests/faults/); the test run itself keeps a private cache.
if not os.environ.get("REDIS_URL"):
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
REST_FRAMEWORK = {**REST_FRAMEWORK}  # noqa: F405
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] = {
    "auth": os.environ.get("TEST_THROTTLE_AUTH", "1000/min"),
    "writes": os.environ.get("TEST_THROTTLE_WRITES", "10000/min"),
}
# Worker processes started by a test may be given more templates (JSON), e.g. poll_closed.
# "test" is a long-term template (no consent credit needed), so the outbox tests send with it.
WECHAT_TEMPLATES = {
    "test": {"id": "tmpl-test", "long_term": True},
    **json.loads(os.environ.get("TEST_WECHAT_TEMPLATES", "{}")),
}
# A worker started by a fault test may take back a killed worker's unacknowledged tasks after a
# few seconds instead of Redis's default hour.
if os.environ.get("TEST_BROKER_VISIBILITY_TIMEOUT"):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": int(os.environ["TEST_BROKER_VISIBILITY_TIMEOUT"]),
        "unacked_restore_interval": 1,  # look for them every second
        "unacked_restore_throttle": 1,
    }
