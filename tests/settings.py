"""Settings for the test run: production settings with test-only values filled in.

The database comes from DATABASE_URL like everywhere else (PostgreSQL in CI, SQLite when unset).
"""

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
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
REST_FRAMEWORK = {**REST_FRAMEWORK}  # noqa: F405
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] = {"auth": "1000/min", "writes": "10000/min"}
WECHAT_TEMPLATES = {"test": "tmpl-test"}
