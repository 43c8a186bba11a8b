"""Settings for the platform. Every value comes from the environment, with a safe default.

The variables are listed once, in the README ("Configuration").
"""

import os
import secrets
import ssl
import tomllib
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from apps.common.queues import MANAGER_QUEUE

BASE_DIR = Path(__file__).resolve().parent.parent
VERSION = tomllib.loads((BASE_DIR / "pyproject.toml").read_text())["project"]["version"]


def env_bool(name: str, default: bool) -> bool:
    """Read a boolean; anything but a clear yes/no is a configuration error."""
    raw = os.environ.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in {"1", "true", "yes", "on"}:
        return True
    if raw in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean; use true or false.")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not an integer.") from None


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name, "").strip()
    return [item.strip() for item in raw.split(",") if item.strip()] if raw else default


def secret_key_from_data_dir(data_dir: Path) -> str:
    """Generate the secret key once and keep it in the data dir, readable by its owner only."""
    key_file = data_dir / "secret_key"
    if not key_file.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(50))
    return key_file.read_text().strip()


DATA_DIR = Path(os.environ.get("KASM_DATA_DIR", BASE_DIR / "data")).resolve()
DEBUG = env_bool("DEBUG", False)
SECRET_KEY = os.environ.get("SECRET_KEY") or secret_key_from_data_dir(DATA_DIR)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

# Behind a TLS-terminating proxy (the production setup), cookies are secure-only and HTTPS is trusted.
BEHIND_TLS_PROXY = env_bool("BEHIND_TLS_PROXY", False)
SESSION_COOKIE_SECURE = BEHIND_TLS_PROXY
CSRF_COOKIE_SECURE = BEHIND_TLS_PROXY
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if BEHIND_TLS_PROXY else None
SECURE_HSTS_SECONDS = 31536000 if BEHIND_TLS_PROXY else 0
SESSION_COOKIE_HTTPONLY = True
SESSION_ENGINE = "apps.accounts.web_sessions"  # Django's database sessions, indexed by user
SESSION_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "SAMEORIGIN"

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.forms",  # its widget templates, for the project's form renderer
    "rest_framework",
    "drf_spectacular",
    "channels",
    "apps.common",
    "apps.accounts",
    "apps.images",
    "apps.agents",
    "apps.sessions",
    "apps.registry",
    "apps.chat",
    "apps.console",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "kasm.urls"
ASGI_APPLICATION = "kasm.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
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

# Forms render through the project's templates: a checkbox sits inside its own label (templates/common/field.html).
FORM_RENDERER = "apps.common.form_renderer.ProjectFormRenderer"

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{DATA_DIR / 'kasm.sqlite3'}",
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 0),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and env_bool("DATABASE_POOL", False):
    # psycopg's pool: a request (or a proxy connect) no longer pays a new Postgres connection, ~8 ms
    # here. Django advises a pool over persistent connections under ASGI, where threads come and go;
    # kasm/asgi.py turns it on for daphne.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True  # the pool replaces a connection Postgres dropped
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": 1,
        "max_size": env_int("DATABASE_POOL_SIZE", 20),
        "timeout": 10,
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Wait for a concurrent writer (web + workers share the file) rather than fail at once.
    DATABASES["default"]["OPTIONS"] = {"timeout": 20, "transaction_mode": "IMMEDIATE"}
    # A file, not memory, so that workers started by the tests share the test database.
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = os.environ.get("REDIS_URL", "")
# Messages a socket's channel may hold before the layer drops more (a chat burst to a busy share).
CHANNEL_CAPACITY = env_int("CHANNEL_CAPACITY", 1000)
LOGIN_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 10)
LOGIN_FAILURE_LIMIT_PER_ADDRESS = env_int("LOGIN_FAILURE_LIMIT_PER_ADDRESS", 30)
LOGIN_FAILURE_WINDOW_SECONDS = env_int("LOGIN_FAILURE_WINDOW_SECONDS", 900)
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            # redis-py 8 caps a pool at 100 connections and fails beyond; a busy share needs more. It
            # also times socket reads out after 5 s, the length of channels_redis's blocking receive,
            # so an idle socket's consumer crashed whenever the answer came late (channels_redis#422).
            # Without retries, a command on a connection Redis dropped (a restart, CLIENT KILL, a
            # network blip) failed at once: a chat message was saved but never reached the others, and
            # its sender's socket closed. Retried on a new connection, it goes out once Redis answers.
            "CONFIG": {
                "hosts": [
                    {
                        "address": REDIS_URL,
                        "max_connections": env_int("CHANNEL_REDIS_MAX_CONNECTIONS", 1000),
                        "socket_timeout": 30,
                        "retry": Retry(ExponentialBackoff(cap=2, base=0.1), 6),
                        "retry_on_error": [RedisConnectionError, RedisTimeoutError],
                    }
                ],
                "capacity": CHANNEL_CAPACITY,
            },
        }
    }
else:
    # Embedded single-process default: no Redis, so live pushes stay inside this one process.
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CHANNEL_LAYERS = {
        "default": {"BACKEND": "channels.layers.InMemoryChannelLayer", "CONFIG": {"capacity": CHANNEL_CAPACITY}}
    }

CELERY_BROKER_URL = REDIS_URL or "memory://"
# Results let a caller wait on an agent's answer (e.g. its engine version); state lives in the ORM.
CELERY_RESULT_BACKEND = REDIS_URL or "cache+memory://"
CELERY_RESULT_EXPIRES = 3600
if REDIS_URL.startswith("rediss://"):  # Redis over TLS: verify the server's certificate (Celery needs it said)
    CELERY_BROKER_USE_SSL = CELERY_REDIS_BACKEND_USE_SSL = {"ssl_cert_reqs": ssl.CERT_REQUIRED}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A message a killed worker held comes back after this; longer than the longest task (image sync,
# 3600 s), so a task still running is never handed to a second worker.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 3900)}
CELERY_TASK_DEFAULT_QUEUE = MANAGER_QUEUE
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 600)
# Seconds a worker process keeps its Postgres connection between tasks (see kasm/celery.py), which
# takes over from Celery's fixup closing it after every task.
WORKER_DATABASE_CONN_MAX_AGE = env_int("WORKER_DATABASE_CONN_MAX_AGE", 300)
CELERY_DB_REUSE_MAX = 10**9

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = ["apps.accounts.backends.UnlockedUserBackend"]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PARSER_CLASSES": [
        "apps.common.json_input.BoundedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Kasm Local console API",
    "DESCRIPTION": "REST API of the admin console. The Kasm-compatible Developer API lives at /api/public/.",
    "VERSION": "1.0",
}

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # filled by `collectstatic` in production
# WhiteNoise serves static files from daphne itself; finders make `collectstatic` optional.
WHITENOISE_USE_FINDERS = True
MEDIA_URL = "media/"
MEDIA_ROOT = DATA_DIR / "media"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}

# Docker engine of the local agent, and the recipes of the images built on this machine.
DOCKER_URL = os.environ.get("DOCKER_URL", "unix:///var/run/docker.sock")
WORKSPACE_RECIPES_DIR = BASE_DIR / "workspaces"

# Set on agent workers (`manage.py run_agent` sets them): which agent this process is.
AGENT_NAME = os.environ.get("AGENT_NAME", "")
AGENT_ADDRESS = os.environ.get("AGENT_ADDRESS", "127.0.0.1")
MANAGER_TOKEN = os.environ.get("MANAGER_TOKEN", "")  # what a new agent enrols with
# A file holding the manager token, where manager and agent share a machine (`make up`): the agent
# re-reads it at each check-in and a rotation in the console writes the new token there.
MANAGER_TOKEN_FILE = os.environ.get("MANAGER_TOKEN_FILE", "")
AGENT_CREDENTIAL = os.environ.get("AGENT_CREDENTIAL", "")  # the agent's own secret, bound to its name at enrolment
# A newly enrolled agent waits for an admin's approval in the console unless this is on (`make up` turns it
# on for the single-machine install, where the only agent is the one it starts).
AGENT_AUTO_APPROVE = env_bool("AGENT_AUTO_APPROVE", False)
AGENT_CHECKIN_INTERVAL = env_int("AGENT_CHECKIN_INTERVAL", 30)  # seconds
# The isolated bridge network an agent starts session containers on (also its host interface name,
# cut to 15 characters), and destinations (CIDRs) its containers may never reach, beyond the defaults
# of apps/agents/session_network.py.
SESSION_NETWORK = os.environ.get("SESSION_NETWORK", "kasm-sessions")
SESSION_NETWORK_BLOCKED = env_list("SESSION_NETWORK_BLOCKED", [])
# Host directories (comma-separated) under which profiles and volume mappings may use host paths;
# none by default, so only named Docker volumes. The manager checks workspaces against its own
# value, each agent checks every mount against its own.
VOLUME_HOST_ROOTS = env_list("VOLUME_HOST_ROOTS", [])
AGENT_OFFLINE_AFTER_MISSED_CHECKINS = env_int("AGENT_OFFLINE_AFTER_MISSED_CHECKINS", 3)
AGENT_STATS_RETENTION_DAYS = env_int("AGENT_STATS_RETENTION_DAYS", 30)
AGENT_IMAGE_SYNC_INTERVAL = env_int("AGENT_IMAGE_SYNC_INTERVAL", 300)  # seconds
AGENT_IMAGE_PULL_ATTEMPTS = env_int("AGENT_IMAGE_PULL_ATTEMPTS", 3)
MANAGER_TOKEN_GRACE_MINUTES = env_int("MANAGER_TOKEN_GRACE_MINUTES", 60)
SESSION_LIFETIME_SECONDS = env_int("SESSION_LIFETIME_SECONDS", 8 * 3600)  # hard limit from the start
SESSION_KEEPALIVE_SECONDS = env_int("SESSION_KEEPALIVE_SECONDS", 3600)  # a keepalive extends expiry by this
AUDIT_RETENTION_DAYS = env_int("AUDIT_RETENTION_DAYS", 365)  # the audit trail keeps this many days
SESSION_START_TIMEOUT_SECONDS = env_int("SESSION_START_TIMEOUT_SECONDS", 120)
SESSION_LINK_LIFETIME_SECONDS = env_int("SESSION_LINK_LIFETIME_SECONDS", 300)  # a kasm_url opens its session once
SESSION_FILE_TRANSFER_MAX_MB = env_int("SESSION_FILE_TRANSFER_MAX_MB", 100)  # uploads and downloads, in MB
# A launch (or resume) queued this long ago with no report is sent again at the next check-in.
SESSION_LAUNCH_RESEND_SECONDS = env_int("SESSION_LAUNCH_RESEND_SECONDS", 60)
# A running session whose container exited (the engine restarted, its main process died) is started
# again this many times in its life; 0: it ends in error (runtime setting).
SESSION_RESTARTS_ALLOWED = env_int("SESSION_RESTARTS_ALLOWED", 0)
STAGING_RESERVED_PERCENT = env_int("STAGING_RESERVED_PERCENT", 20)  # runtime setting: see runtime_settings.py
SESSION_ORPHAN_GRACE_SECONDS = env_int("SESSION_ORPHAN_GRACE_SECONDS", 300)
SCHEDULER_POLICY = os.environ.get("SCHEDULER_POLICY", "spread")  # "spread" or "pack"
if SCHEDULER_POLICY not in {"spread", "pack"}:
    raise ImproperlyConfigured(f"SCHEDULER_POLICY={SCHEDULER_POLICY!r}: use spread or pack.")

# Share chat: longest message, per-user rate limit, history shown on join.
CHAT_MESSAGE_MAX_LENGTH = env_int("CHAT_MESSAGE_MAX_LENGTH", 1000)
CHAT_RATE_LIMIT_MESSAGES = env_int("CHAT_RATE_LIMIT_MESSAGES", 5)
CHAT_RATE_LIMIT_SECONDS = env_int("CHAT_RATE_LIMIT_SECONDS", 10)
CHAT_HISTORY_SIZE = env_int("CHAT_HISTORY_SIZE", 50)

# Workspace registries: fetching limits, automatic updates and the first-party registry, which this
# server publishes at /registry/ from the workspace.json files in FIRST_PARTY_REGISTRY_DIR.
REGISTRY_FETCH_TIMEOUT_SECONDS = env_int("REGISTRY_FETCH_TIMEOUT_SECONDS", 10)
REGISTRY_MAX_LIST_BYTES = env_int("REGISTRY_MAX_LIST_BYTES", 8 * 1024**2)
REGISTRY_MAX_ICON_BYTES = env_int("REGISTRY_MAX_ICON_BYTES", 1024**2)
REGISTRY_AUTO_UPDATE_INTERVAL = env_int("REGISTRY_AUTO_UPDATE_INTERVAL", 3600)  # seconds
FIRST_PARTY_REGISTRY_URL = os.environ.get("FIRST_PARTY_REGISTRY_URL", "http://127.0.0.1:8000/registry/")
FIRST_PARTY_REGISTRY_DIR = BASE_DIR / "registry"

CELERY_BEAT_SCHEDULE = {
    # Both run often and read their interval from the runtime settings, which admins change live.
    "registry-auto-update": {"task": "registry.auto_update", "schedule": 60},
    "sessions-expire": {"task": "sessions.expire", "schedule": 60},
    "sessions-staging-fill": {"task": "sessions.staging_fill", "schedule": 10},
    "accounts-audit-prune": {"task": "accounts.audit_prune", "schedule": 3600},
    "accounts-web-logins-prune": {"task": "accounts.web_logins_prune", "schedule": 3600},
    "agents-monitor": {"task": "agents.monitor", "schedule": 10},
    "agents-image-sync": {"task": "agents.dispatch_image_sync", "schedule": AGENT_IMAGE_SYNC_INTERVAL},
}
