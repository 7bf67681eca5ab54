"""Django settings: every value comes from the environment (see ``community.env``).

Defaults are the embedded development set-up (SQLite, eager Celery, local-memory cache) and are
only safe with ``DEBUG=1``; production must set ``SECRET_KEY``, ``DATABASE_URL``,
``CELERY_BROKER_URL``, ``REDIS_URL`` and ``ALLOWED_HOSTS``. The README lists every variable.
"""

from __future__ import annotations

from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from community.env import env_bool, env_int, env_json, env_list, env_secret, env_str
from community.schedule import beat_schedule

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env_secret("SECRET_KEY", debug=DEBUG, dev_default="dev-only-insecure-secret-key")
# Seals secret ballots and anonymous survey responses in their boxes until they are mixed
# (community/sealing.py): a leaked database without this key cannot link a
# member to a pending ballot or response.
BALLOT_KEY = env_secret("BALLOT_KEY", debug=DEBUG, dev_default="dev-only-insecure-ballot-key")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    # The admin theme (django-unfold) must come before django.contrib.admin: its templates win.
    "unfold",
    "unfold.contrib.filters",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "drf_standardized_errors",
    "adminsortable2",
    # The audit log's history tables and their triggers (moderation/audit_models.py).
    "pgtrigger",
    "pghistory",
    "health_check",
    "community.apps.CommunityConfig",
    "polls.apps.PollsConfig",
    "surveys.apps.SurveysConfig",
    "events.apps.EventsConfig",
    "roles.apps.RolesConfig",
    "moderation.apps.ModerationConfig",
    "insights.apps.InsightsConfig",
    "announcements.apps.AnnouncementsConfig",
    "games.apps.GamesConfig",
    "assistant.apps.AssistantConfig",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "community.urls"
# The only login page is the admin's; the theme's form carries no ``next``, so land on the admin
# (Django's default, /accounts/profile/, does not exist here).
LOGIN_REDIRECT_URL = "admin:index"
WSGI_APPLICATION = "community.wsgi.application"
ASGI_APPLICATION = "community.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
# DATABASE_URL=postgres://user@host:5432/name uses psycopg 3; unset means a local SQLite file.
DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}")
# Behind PgBouncer in transaction mode (DB_POOLER=pgbouncer) a connection is a different server
# session in each transaction: no server-side cursors (a WITH HOLD cursor outlives its
# transaction), no prepared statements (PgBouncer 1.18 cannot route them), and no psycopg pool
# (PgBouncer is the pool; with both, a request may wait up to the pool's 10 s for a connection
# after every server connection dropped).
DB_POOLER = env_str("DB_POOLER", "")
# A read replica (streaming hot standby) for reads that may lag (community/db_router.py).
DATABASE_REPLICA_URL = env_str("DATABASE_REPLICA_URL", "")


# psycopg's ``prepare_threshold`` on direct connections: prepare a statement after this many
# executions, i.e. never unless asked -- only ``community.db.prepared.prepared_cursor`` asks.
PREPARE_WHEN_ASKED = 2**31 - 1


def _database(url: str, *, pooled: bool) -> dict:
    """One ``DATABASES`` entry from a URL (psycopg 3 on PostgreSQL, SQLite otherwise)."""
    config = dj_database_url.parse(url, conn_max_age=0)
    if config["ENGINE"] == "django.db.backends.postgresql":
        # Django's backend, minus the LIKE pattern index on every opaque id (community/db/).
        config["ENGINE"] = "community.db.backends.postgresql"
        # Connections that broke while idle (database restart, failover, terminated backend)
        # are checked and replaced before a request gets them, so only requests in flight fail.
        config["CONN_HEALTH_CHECKS"] = True
        options = config.setdefault("OPTIONS", {})
        options.setdefault("connect_timeout", env_int("DB_CONNECT_TIMEOUT", 5))
        # The hot paths' hand-written statements are prepared when they ask (community/db/
        # prepared.py); nothing else is. PgBouncer (below) sets None: no prepared statements.
        options.setdefault("prepare_threshold", PREPARE_WHEN_ASKED)
        if pooled and not DB_POOLER and env_bool("DB_POOL", True):
            # psycopg 3's pool: each gunicorn/celery process keeps a few warm connections.
            options["pool"] = {
                "min_size": env_int("DB_POOL_MIN", 1),
                "max_size": env_int("DB_POOL_MAX", 8),
                "timeout": 10,
            }
        else:
            config["CONN_MAX_AGE"] = env_int("CONN_MAX_AGE", 60)
    elif config["ENGINE"] == "django.db.backends.sqlite3":
        # The development run writes from two processes (the server and the periodic jobs):
        # take the write lock when a transaction starts and wait for it, instead of failing.
        config.setdefault("OPTIONS", {}).update({"transaction_mode": "IMMEDIATE", "timeout": 20})
    return config


DATABASES = {"default": _database(DATABASE_URL, pooled=True)}
if DB_POOLER:
    if DB_POOLER != "pgbouncer":
        raise ImproperlyConfigured("DB_POOLER must be 'pgbouncer' or empty.")
    DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = True
    DATABASES["default"]["OPTIONS"]["prepare_threshold"] = None
if DATABASE_REPLICA_URL:
    # Connected directly (not through PgBouncer): server-side cursors work there. A replica
    # that does not answer within REPLICA_CONNECT_TIMEOUT seconds is skipped (the primary reads).
    DATABASES["replica"] = _database(DATABASE_REPLICA_URL, pooled=False)
    if DATABASES["replica"]["ENGINE"] == "community.db.backends.postgresql":
        DATABASES["replica"]["OPTIONS"]["connect_timeout"] = env_int("REPLICA_CONNECT_TIMEOUT", 2)
    # Tests read the test database through this alias too.
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
DATABASE_ROUTERS = ["community.db_router.ReplicaRouter"]

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "community.User"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Language and time --------------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "community" / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"

# --- Back office theme (django-unfold; every asset is served from its static files) ----------
UNFOLD = {
    "SITE_TITLE": _("Community back office"),
    "SITE_HEADER": _("Community back office"),
    "SITE_SYMBOL": "groups",
    "SHOW_LANGUAGES": True,
    "SHOW_VIEW_ON_SITE": False,
    "DASHBOARD_CALLBACK": "community.admin_dashboard.dashboard_callback",
}
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "media")))

# --- Exports (survey responses): private files, never served by URL ---------------------------
# Kept outside MEDIA_ROOT/STATIC_ROOT and streamed only by the admin's checked download view.
EXPORT_ROOT = Path(env_str("EXPORT_ROOT", str(BASE_DIR / "var" / "exports")))
EXPORT_RETENTION_DAYS = env_int("EXPORT_RETENTION_DAYS", 7)  # then the file is deleted
EXPORT_LEASE_MINUTES = env_int("EXPORT_LEASE_MINUTES", 15)  # silent this long = stuck
EXPORT_MAX_ATTEMPTS = env_int("EXPORT_MAX_ATTEMPTS", 3)  # queued this often, then failed
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    "exports": {"BACKEND": "community.storage.PrivateFileSystemStorage"},
}

# --- Cache (WeChat access token, throttles, locks) -------------------------------------------
REDIS_URL = env_str("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", "wxc"),
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# The member-activity buffer (insights.recording): Redis hash counters flushed into the database
# by the insights-flush job. Empty: activity is written straight to the database (development).
INSIGHTS_REDIS_URL = env_str("INSIGHTS_REDIS_URL", REDIS_URL)

# --- Celery -----------------------------------------------------------------------------------
# Unset broker: tasks run eagerly in-process (development). redis:// or amqp://: real workers.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
if CELERY_TASK_ALWAYS_EAGER:
    # Celery still opens a producer in eager mode; keep it in memory rather than letting it
    # default to amqp://localhost.
    CELERY_BROKER_URL = "memory://localhost/"
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# On RabbitMQ, CELERY_QUEUE_TYPE=quorum declares the task queues as quorum queues (replicated
# across a RabbitMQ cluster's nodes, so a broker node's loss keeps the messages).
CELERY_TASK_DEFAULT_QUEUE_TYPE = env_str("CELERY_QUEUE_TYPE", "classic")
# The submission that completes a batch in an anonymous survey's box queues its mix this many
# seconds later, and whatever is submitted meanwhile joins that mix (surveys.services.mixing):
# at most one mix per survey per delay under steady traffic, in bigger batches, which cost less
# per response and hide each one among more. 0: mix as soon as a batch is complete. At most 30,
# well inside the pending mark's lifetime (community.queue_once.PENDING_TTL, 60 s).
SURVEY_MIX_DELAY = env_int("SURVEY_MIX_DELAY", 1)
if not 0 <= SURVEY_MIX_DELAY <= 30:
    raise ImproperlyConfigured("SURVEY_MIX_DELAY must be between 0 and 30 seconds.")
# The periodic jobs, their schedules and longest delays are listed in one place
# (community/schedule.py), which the development scheduler (`manage.py run_periodic`) reads too.
CELERY_BEAT_SCHEDULE: dict = beat_schedule()

# --- REST framework and the contract --------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["community.authentication.BearerTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["community.renderers.FastJSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["community.parsers.SafeJSONParser"],
    "DEFAULT_SCHEMA_CLASS": "community.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "drf_standardized_errors.handler.exception_handler",
    "DEFAULT_PAGINATION_CLASS": "community.pagination.CursorPagination",
    "PAGE_SIZE": 20,
    "DEFAULT_THROTTLE_RATES": {
        "auth": env_str("THROTTLE_AUTH", "20/min"),
        "writes": env_str("THROTTLE_WRITES", "120/min"),
    },
    "DEFAULT_VERSIONING_CLASS": None,
}
if DEBUG:
    REST_FRAMEWORK["DEFAULT_RENDERER_CLASSES"].append(
        "rest_framework.renderers.BrowsableAPIRenderer"
    )

DRF_STANDARDIZED_ERRORS = {
    "EXCEPTION_HANDLER_CLASS": "community.errors.ApiExceptionHandler",
    # Which of these an operation documents, and with which codes, is derived from its code
    # (community.openapi.AutoSchema).
    "ALLOWED_ERROR_STATUS_CODES": ["400", "401", "403", "404", "409", "413", "415", "429", "503"],
}

_ERROR_ENUMS = "drf_standardized_errors.openapi_serializers"
_SYSTEM_FONTS = (
    '-apple-system, "PingFang SC", "Hiragino Sans GB", "Microsoft YaHei", "Noto Sans CJK SC", '
    "sans-serif"
)
SPECTACULAR_SETTINGS = {
    "TITLE": "WeChat community mini-program API",
    "DESCRIPTION": (
        "Group polls, feedback surveys, event sign-ups and role task boards for the members of "
        "a WeChat group.\n\nAuthenticate with `POST /api/v1/auth/wechat` and send "
        "`Authorization: Bearer <token>`. Every error has one shape (`type`, `errors[]` with "
        "`code`, `detail`, `attr`); `detail` is translated by `Accept-Language` (zh-hans by "
        "default, en). Objects of a community you are not an active member of answer 404."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_GENERATE_CHOICE_DESCRIPTION": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Served offline: Swagger UI and Redoc come from drf-spectacular-sidecar, Swagger UI's
    # online validator badge is off, Redoc uses the system's fonts (our Redoc template drops the
    # Google Fonts links), so the docs make no request outside this server.
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    "REDOC_UI_SETTINGS": {
        "theme": {
            "typography": {
                "fontFamily": _SYSTEM_FONTS,
                "headings": {"fontFamily": _SYSTEM_FONTS},
                "code": {"fontFamily": "ui-monospace, Menlo, Consolas, monospace"},
            }
        }
    },
    "SERVE_PERMISSIONS": ["community.openapi.SchemaViewPermission"],
    "SERVE_AUTHENTICATION": [
        "rest_framework.authentication.SessionAuthentication",
        "community.authentication.BearerTokenAuthentication",
    ],
    "ENUM_NAME_OVERRIDES": {
        "SubscriptionDecisionEnum": "community.models.SubscriptionDecision",
        "MembershipStatusEnum": "community.models.MembershipStatus",
        "ModerationCaseStatusEnum": "moderation.models.CaseStatus",
        "ModerationDecisionEnum": "moderation.models.Decision",
        "ModerationTargetKindEnum": "moderation.models.TargetKind",
        "AnnouncementStatusEnum": "announcements.models.AnnouncementStatus",
        "DrawStatusEnum": "games.models.DrawStatus",
        "DrawSourceEnum": "games.models.DrawSource",
        "CommunityKindEnum": "community.models.CommunityKind",
        "ReportReasonEnum": "moderation.models.ReportReason",
        "AppealStatusEnum": "moderation.models.AppealStatus",
        "AuditActionEnum": "moderation.models.AuditAction",
        "FaqStatusEnum": "assistant.models.FaqStatus",
        "KeywordMatchKindEnum": "assistant.models.MatchKind",
        "KeywordReplyKindEnum": "assistant.models.RuleReplyKind",
        "ValidationErrorEnum": f"{_ERROR_ENUMS}.ValidationErrorEnum.choices",
        "ClientErrorEnum": f"{_ERROR_ENUMS}.ClientErrorEnum.choices",
        "ServerErrorEnum": f"{_ERROR_ENUMS}.ServerErrorEnum.choices",
        "ErrorCode401Enum": f"{_ERROR_ENUMS}.ErrorCode401Enum.choices",
        "ErrorCode403Enum": f"{_ERROR_ENUMS}.ErrorCode403Enum.choices",
        "ErrorCode404Enum": f"{_ERROR_ENUMS}.ErrorCode404Enum.choices",
        "ErrorCode405Enum": f"{_ERROR_ENUMS}.ErrorCode405Enum.choices",
        "ErrorCode406Enum": f"{_ERROR_ENUMS}.ErrorCode406Enum.choices",
        "ErrorCode415Enum": f"{_ERROR_ENUMS}.ErrorCode415Enum.choices",
        "ErrorCode429Enum": f"{_ERROR_ENUMS}.ErrorCode429Enum.choices",
        "ErrorCode500Enum": f"{_ERROR_ENUMS}.ErrorCode500Enum.choices",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_standardized_errors.openapi_hooks.postprocess_schema_enums",
        "community.openapi.drop_storage_bounds",
        "community.openapi.attr_placeholders_to_patterns",
        "community.openapi.describe_contract",
    ],
    "TAGS": [
        {"name": "meta", "description": "The API index"},
        {"name": "auth", "description": "WeChat login and tokens"},
        {"name": "me", "description": "The signed-in member"},
        {"name": "communities", "description": "Communities, joining and group rules"},
        {"name": "members", "description": "Member list and moderation"},
        {"name": "polls", "description": "Group polls"},
        {"name": "surveys", "description": "Feedback surveys"},
        {"name": "moderation", "description": "Reports and the moderation queue"},
        {"name": "announcements", "description": "Announcements, categories, read confirmation"},
        {"name": "draws", "description": "Verifiable lucky draws"},
        {
            "name": "assistant",
            "description": "Customer-service messages, the hand-over queue, the FAQ, keyword rules and statistics",
        },
    ],
}

# --- WeChat -------------------------------------------------------------------------------------
WECHAT_APPID = env_str("WECHAT_APPID", "")
WECHAT_SECRET = env_str("WECHAT_SECRET", "")
WECHAT_API_BASE = env_str("WECHAT_API_BASE", "https://api.weixin.qq.com")
WECHAT_TIMEOUT = float(env_str("WECHAT_TIMEOUT", "5"))
WECHAT_RETRIES = env_int("WECHAT_RETRIES", 2)
# Text that members publish (nicknames, community texts) is screened by msgSecCheck v2 when on.
WECHAT_CONTENT_CHECK = env_bool("WECHAT_CONTENT_CHECK", bool(WECHAT_APPID))
# subscribeMessage template ids per notification kind, e.g. {"poll_closed": "tmpl-id"}.
WECHAT_TEMPLATES = env_json("WECHAT_TEMPLATES", {})
# "developer", "trial" or "formal": which mini-program build a notification opens.
WECHAT_MINIPROGRAM_STATE = env_str("WECHAT_MINIPROGRAM_STATE", "formal")
# The assistant's message push (assistant/push.py): the Token and EncodingAESKey set in the
# mini-program's 消息推送 configuration (safe mode), and its data format ("json" or "xml").
# No default in production: unset, the push endpoint answers 503 and nothing is received. With
# DEBUG a development pair is used (never the one of a real mini-program).
WECHAT_PUSH_TOKEN = env_str("WECHAT_PUSH_TOKEN", "dev-push-token" if DEBUG else "")
WECHAT_PUSH_AES_KEY = env_str(
    "WECHAT_PUSH_AES_KEY", "devPushKeyOnly0123456789abcdefghijklmnopqrs" if DEBUG else ""
)
WECHAT_PUSH_FORMAT = env_str("WECHAT_PUSH_FORMAT", "json")
# The cover image (a permanent media id) of mini-program-page replies; without one they are
# sent as a text with a link that opens the page.
ASSISTANT_THUMB_MEDIA_ID = env_str("ASSISTANT_THUMB_MEDIA_ID", "")
if WECHAT_PUSH_FORMAT not in ("json", "xml"):
    raise ImproperlyConfigured("WECHAT_PUSH_FORMAT must be 'json' or 'xml'.")
if WECHAT_PUSH_AES_KEY and len(WECHAT_PUSH_AES_KEY) != 43:
    raise ImproperlyConfigured("WECHAT_PUSH_AES_KEY must be the 43-character EncodingAESKey.")
# The development login (POST /api/v1/auth/dev) answers only when DEBUG is on.
DEV_LOGIN_ENABLED = DEBUG

AUTH_TOKEN_TTL_DAYS = env_int("AUTH_TOKEN_TTL_DAYS", 30)

# --- Security -------------------------------------------------------------------------------------
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
# The load balancer probes the health endpoints over plain HTTP inside the network.
SECURE_REDIRECT_EXEMPT = [r"^health/"]
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# --- Logging: never log WeChat secrets (httpx logs full URLs, which carry appsecret/js_code) ----
LOG_LEVEL = env_str("LOG_LEVEL", "INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
    },
}
