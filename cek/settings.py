"""Settings for the CEK-11 evidence app: one file, everything read from the environment.

The app's own variables start with ``CEK_``; ``DATABASE_URL`` and ``REDIS_URL`` keep their usual names.
With nothing set, the app runs on the embedded default: SQLite and kombu's file broker under ``var/``.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from cek import __version__
from cek.envparse import EnvError, env_bool, env_int, env_list, env_secret, env_severities, env_str, env_webhooks

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(env_str("CEK_DATA_DIR") or BASE_DIR / "var")

DEBUG = env_bool("CEK_DEBUG", False)

SECRET_KEY = env_secret("CEK_SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "CEK_SECRET_KEY (or CEK_SECRET_KEY_FILE) must be set when CEK_DEBUG is off. "
            "Generate one with: python -c 'import secrets; print(secrets.token_urlsafe(50))'"
        )
    SECRET_KEY = "insecure-development-key-only-for-CEK_DEBUG=1-never-in-production"  # noqa: S105

ALLOWED_HOSTS = env_list("CEK_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CEK_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "simple_history",
    "django_celery_results",
    "axes",
    "csp",
    "cek",
    "inventory",
    "evidence",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "cek.access.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "cek.headers.SecurityHeadersMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, as django-axes asks: it turns a lockout noted during authentication into the lockout page.
    "axes.middleware.AxesMiddleware",
    # A view's 404 (an object the role does not see) gets the app's page even with DEBUG on (cek/errorpages.py).
    "cek.errorpages.AppNotFoundMiddleware",
]

ROOT_URLCONF = "cek.urls"
WSGI_APPLICATION = "cek.wsgi.application"

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
                "cek.roles.role_context",
                "cek.views.version_context",
            ],
            "builtins": [
                "cek.templatetags.dates",  # {% humandate %}, {% humantime %}: dates in words
                "cek.templatetags.people",  # {{ user|person }}: people by name
            ],
        },
    },
]

# --- Database: PostgreSQL in production via DATABASE_URL, SQLite by default -------------------------
_database_url = env_str("DATABASE_URL")
if _database_url:
    DATABASES = {"default": dj_database_url.parse(_database_url, conn_max_age=60, conn_health_checks=True)}
else:
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": env_str("CEK_SQLITE_PATH") or str(DATA_DIR / "cek.sqlite3"),
            # The web server, worker and beat share one file: wait for locks instead of failing.
            "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Auth ---------------------------------------------------------------------------------------
# django-axes first: it refuses a locked-out username or address before any password is checked.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "cek.access.ExpiringAccessBackend"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
SESSION_COOKIE_AGE = env_int("CEK_SESSION_SECONDS", 8 * 3600, minimum=300)
# Sessions are read from the cache (Redis, or files in the embedded default) and written through to the database
# (Django's cached_db, which goes on with the database alone while the cache is down: cek.sessions).
SESSION_ENGINE = "cek.sessions"

# Login throttling (django-axes, failures kept in the database so every web process sees them): after
# CEK_LOGIN_FAILURE_LIMIT failed logins for one username, or from one address, logins for it are refused for
# CEK_LOGIN_LOCKOUT_MINUTES after the last failure, even with the right password. Failures during a lockout
# do not extend it, so the login page can say when it ends. A successful login does not clear the count:
# otherwise anyone with an account could clear their address's count between guesses.
AXES_FAILURE_LIMIT = env_int("CEK_LOGIN_FAILURE_LIMIT", 10, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("CEK_LOGIN_LOCKOUT_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = "cek.lockout.lockout_parameters"
AXES_RESET_ON_SUCCESS = False
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_CALLABLE = "cek.lockout.lockout_response"
AXES_CLIENT_IP_CALLABLE = "cek.lockout.client_ip"
AXES_VERBOSE = False
# Behind reverse proxies, the client's address is the one the outermost of this many proxies appended to
# X-Forwarded-For (each proxy appends the address it received the request from). 0 = no proxy: the
# connection's address, and X-Forwarded-For is ignored (a client could write anything in it).
CEK_TRUSTED_PROXY_COUNT = env_int("CEK_TRUSTED_PROXY_COUNT", 0, minimum=0)

# --- I18N ---------------------------------------------------------------------------------------
LANGUAGE_CODE = "en-gb"
TIME_ZONE = env_str("CEK_TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True
FORMAT_MODULE_PATH = ["cek.formats"]  # dates in words: "6 Dec 2026", "6 Dec 2026, 14:05 UTC"

# --- Static and media files -----------------------------------------------------------------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = DATA_DIR / "staticfiles"
MEDIA_ROOT = Path(env_str("CEK_MEDIA_ROOT") or DATA_DIR / "media")
MEDIA_URL = "media/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise warns on every request when it is missing

# --- E-mail -------------------------------------------------------------------------------------
EMAIL_HOST = env_str("CEK_EMAIL_HOST")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = env_int("CEK_EMAIL_PORT", 587, minimum=1)
    EMAIL_HOST_USER = env_str("CEK_EMAIL_USER")
    EMAIL_HOST_PASSWORD = env_secret("CEK_EMAIL_PASSWORD")
    EMAIL_USE_TLS = env_bool("CEK_EMAIL_USE_TLS", True)
elif env_str("CEK_EMAIL_FILE_DIR"):
    # Each message a file in this folder (the demo: scripts/run keeps the console for what people must read).
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = env_str("CEK_EMAIL_FILE_DIR")
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = env_str("CEK_FROM_EMAIL", "cek-evidence@localhost")

# --- Security (production when CEK_DEBUG is off) ------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("CEK_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("CEK_HSTS_SECONDS", 31536000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("CEK_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("CEK_HSTS_PRELOAD", True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
if env_bool("CEK_BEHIND_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Content-Security-Policy on every response (django-csp): scripts, styles, fonts and images come from this
# site only (the app and the Swagger page serve their own files, no CDN), nothing inline, no plug-ins, no
# framing. Swagger UI's stylesheet draws its icons as data: SVG images; its schema is fetched from this site.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
# Features no page uses are switched off for every page (cek.headers.SecurityHeadersMiddleware).
PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), display-capture=(), geolocation=(), gyroscope=(), magnetometer=(), "
    "microphone=(), midi=(), payment=(), usb=()"
)

# --- Celery: Redis when REDIS_URL is set, else kombu's file broker (no server needed) -------------------
REDIS_URL = env_str("REDIS_URL")
BROKER_DIR = DATA_DIR / "broker"
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
else:
    for _sub in ("out", "processed", "control"):
        (BROKER_DIR / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "out"),
        "data_folder_out": str(BROKER_DIR / "out"),
        "processed_folder": str(BROKER_DIR / "processed"),
        # Exchange bindings (one file per queue); kombu's default is "control" in the working directory.
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
    }
CELERY_RESULT_BACKEND = "django-db"
CELERY_RESULT_EXTENDED = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE_FILENAME = str(DATA_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE: dict = {
    # Every kind of background job (imports, check runs, packs, campaign launches): jobs whose worker went silent
    # past their kind's CEK_*_STALE_MINUTES are failed with the reason, or queued again (cek/jobs/watchdog.py).
    "jobs-watchdog": {
        "task": "cek.jobs.watchdog",
        "schedule": 60.0,
    },
    # Review reminders to policy owners (30, 7, 0 days before, weekly while overdue); idempotent per day.
    "evidence-policy-review-reminders": {
        "task": "evidence.tasks.policy_review_reminders",
        "schedule": crontab(hour=6, minute=0),
    },
    # Attestation campaign reminders per cadence and escalations to GRC; idempotent per day. Which days remind
    # and escalate: evidence/campaigns/schedule.py (this entry only says when the daily sweep runs).
    "evidence-campaign-reminders": {
        "task": "evidence.tasks.campaign_reminders",
        "schedule": crontab(hour=7, minute=0),
    },
    # Findings whose risk acceptance ended are open again (pages already show them as expired).
    "evidence-finding-acceptances-expire": {
        "task": "evidence.tasks.finding_acceptances_expire",
        "schedule": crontab(hour=0, minute=15),
    },
    # Every check of the auditing guidelines (AG-1..10, CCM-1..3), nightly.
    "evidence-checks-nightly": {
        "task": "evidence.tasks.checks_nightly",
        "schedule": crontab(hour=2, minute=30),
    },
    # Policy e-mails whose queued task was lost (the broker was down when the policy was sent).
    "evidence-policy-emails-pending": {
        "task": "evidence.tasks.policy_emails_pending",
        "schedule": 900.0,
    },
    # Usage-log misuse rules (evidence/usage/misuse.py) evaluated daily: dormant keys, findings whose calls left the
    # window resolved; ingestions evaluate them too, as each one succeeds.
    "evidence-usage-misuse-daily": {
        "task": "evidence.tasks.usage_misuse_evaluate",
        "schedule": crontab(hour=2, minute=0),
    },
    # Evidence packs: expired packs' files deleted.
    "evidence-packs-cleanup": {
        "task": "evidence.tasks.packs_cleanup",
        "schedule": crontab(hour=3, minute=15),
    },
}

# --- Cache: progress of background jobs, shared by web and worker processes ----------------------
# Redis when REDIS_URL is set; else files in the data directory (the embedded default has no server).
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "cek.rediscache.RedisCache",  # one redis-py client per pool, not per call
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "cek",
            "KEY_FUNCTION": "cek.installation.cache_key",  # installations sharing a cache keep apart
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(DATA_DIR / "cache"),
            "KEY_PREFIX": "cek",
            "KEY_FUNCTION": "cek.installation.cache_key",  # installations sharing a cache keep apart
        }
    }

# --- REST API -----------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "cek.apitokens.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["cek.roles.ApiRolePermission"],
    "DEFAULT_PAGINATION_CLASS": "cek.api.Pagination",
    "DEFAULT_FILTER_BACKENDS": [
        "cek.filtering.FilterBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "cek.api.exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["cek.api.JSONParser"],
    "DEFAULT_THROTTLE_RATES": {"anon": "60/min"},
}
SPECTACULAR_SETTINGS = {
    "TITLE": "CEK-11 Key Purpose evidence API",
    "DESCRIPTION": "Key inventory (metadata only) and evidence for AICM CEK-11 'Key Purpose'.",
    "VERSION": __version__,  # the app's version (CHANGELOG.md); the API's own version is the /api/v1/ prefix
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SERVE_PERMISSIONS": ["cek.roles.ApiAnyRolePermission"],
    "ENUM_NAME_OVERRIDES": {
        "KeyKindEnum": "inventory.models.KeyKind",
        "StoreKindEnum": "inventory.models.StoreKind",
        "SsrmLayerEnum": "inventory.models.SsrmLayer",
        "SsrmRoleEnum": "inventory.models.SsrmRole",
        "OperationEnum": "inventory.models.Operation",
        "AnswerValueEnum": "evidence.models.AnswerValue",
        "AnswerStatusEnum": "evidence.models.AnswerStatus",
        "RunStatusEnum": "evidence.models.RunStatus",
        "FindingStatusEnum": "evidence.models.FindingStatus",
        "FindingStatusFilterEnum": "evidence.findings.api.STATUS_CHOICES",
        "PackStatusEnum": "evidence.models.PackStatus",
        "CampaignStatusEnum": "evidence.models.CampaignStatus",
        "AttestationStatusEnum": "evidence.models.AttestationStatus",
        "PolicyKindEnum": "evidence.models.PolicyKind",
        "ChangeKindEnum": "evidence.reviews.models.ChangeKind",
        "EvaluationKindEnum": "evidence.reviews.models.EvaluationKind",
    },
}

# --- The app's own settings -----------------------------------------------------------------------
CEK_ORGANISATION = env_str("CEK_ORGANISATION", "Example AI Ltd")
CEK_IMPORT_MAX_BYTES = env_int("CEK_IMPORT_MAX_BYTES", 20 * 1024 * 1024, minimum=1024)
# The IaC gate (check_iac) refuses a plan, or a directory's .tf files together, larger than this.
CEK_IAC_MAX_BYTES = env_int("CEK_IAC_MAX_BYTES", 200 * 1024 * 1024, minimum=1024)
# Imports of more rows than this are applied by a Celery worker (with a progress bar), smaller ones at once.
CEK_IMPORT_INLINE_ROWS = env_int("CEK_IMPORT_INLINE_ROWS", 500, minimum=0)
# An import still "applying" this long after its worker last reported progress is marked failed (retryable).
CEK_IMPORT_STALE_MINUTES = env_int("CEK_IMPORT_STALE_MINUTES", 30, minimum=1)
# Imports read, plan and write this many rows at a time (one transaction for the whole file): the memory bound.
CEK_IMPORT_CHUNK_ROWS = env_int("CEK_IMPORT_CHUNK_ROWS", 1000, minimum=1)
CEK_PAGE_SIZE = env_int("CEK_PAGE_SIZE", 50, minimum=5)
# The dashboard's figures and the key lists' counts are snapshots thrown away by the next write to what they count,
# and at most this old (0: computed on every request). cek/snapshot.py
CEK_DASHBOARD_SNAPSHOT_SECONDS = env_int("CEK_DASHBOARD_SNAPSHOT_SECONDS", 300, minimum=0)
# A text search of the key list (?q=) on PostgreSQL stores, with its count, the ids of its first this many matches
# in the list's order: the pages among them are read by id. inventory/selectors.py (PagedRows)
CEK_KEY_SEARCH_STORED_ROWS = env_int("CEK_KEY_SEARCH_STORED_ROWS", 5000, minimum=0)
# Policies: largest uploaded policy document; days within which a significant change must be reviewed; the
# address of the app in e-mails sent by workers (they have no request to take it from).
CEK_POLICY_MAX_BYTES = env_int("CEK_POLICY_MAX_BYTES", 20 * 1024 * 1024, minimum=1024)
CEK_CHANGE_REVIEW_DAYS = env_int("CEK_CHANGE_REVIEW_DAYS", 30, minimum=1)
# Campaigns over this many keys are launched by a Celery worker, smaller ones at once.
CEK_CAMPAIGN_INLINE_KEYS = env_int("CEK_CAMPAIGN_INLINE_KEYS", 500, minimum=0)
# A campaign still launching this many minutes after its launch is queued again (a lost or interrupted task).
CEK_CAMPAIGN_LAUNCH_STALE_MINUTES = env_int("CEK_CAMPAIGN_LAUNCH_STALE_MINUTES", 15, minimum=1)
# Checks (AG-1..10, CCM-1..3): purpose mappings older than this many days are due for review (AG-2); key
# stores not imported or confirmed complete for this many days make the inventory incomplete (CCM-2); runs
# over more keys in use (active or suspended) than CEK_CHECKS_INLINE_KEYS go to a worker; running runs silent
# this long are failed.
CEK_PURPOSE_REVIEW_DAYS = env_int("CEK_PURPOSE_REVIEW_DAYS", 365, minimum=1)
CEK_INVENTORY_FRESH_DAYS = env_int("CEK_INVENTORY_FRESH_DAYS", 90, minimum=1)
# AG-8: a repository whose newest recorded IaC scan is older than this is stale (not covered).
CEK_IAC_FRESH_DAYS = env_int("CEK_IAC_FRESH_DAYS", 30, minimum=1)
CEK_CHECKS_INLINE_KEYS = env_int("CEK_CHECKS_INLINE_KEYS", 2000, minimum=0)
CEK_CHECKS_STALE_MINUTES = env_int("CEK_CHECKS_STALE_MINUTES", 30, minimum=1)
CEK_MANUAL_EVIDENCE_MAX_BYTES = env_int("CEK_MANUAL_EVIDENCE_MAX_BYTES", 20 * 1024 * 1024, minimum=1024)
CEK_BASE_URL = env_str("CEK_BASE_URL", "http://localhost:8000").rstrip("/")
# Evidence packs: the Ed25519 private key (PEM, PKCS#8) that signs their manifests (generated by
# `manage.py evidence_signing_key --create-if-missing`; never in the database); days a ready pack is kept before
# the cleanup task deletes its file (0 = keep); tables longer than this go to the data files, not the PDF;
# builds whose worker stopped reporting for this long are marked failed (retryable).
CEK_EVIDENCE_SIGNING_KEY = Path(env_str("CEK_EVIDENCE_SIGNING_KEY") or DATA_DIR / "evidence-signing-key.pem")
CEK_PACK_RETENTION_DAYS = env_int("CEK_PACK_RETENTION_DAYS", 90, minimum=0)
CEK_PACK_PDF_MAX_ROWS = env_int("CEK_PACK_PDF_MAX_ROWS", 300, minimum=10)
CEK_PACK_STALE_MINUTES = env_int("CEK_PACK_STALE_MINUTES", 15, minimum=1)
CEK_PACK_VERIFY_MAX_BYTES = env_int("CEK_PACK_VERIFY_MAX_BYTES", 500 * 1024 * 1024, minimum=1024)
# Usage logs (evidence/usage): largest uploaded log file (streamed to a temporary file, deleted after its
# ingestion); DuckDB's memory limit (it spills to a temporary directory past it) and threads; ingestions whose
# worker stopped reporting for this long are marked failed.
CEK_USAGE_MAX_UPLOAD_BYTES = env_int("CEK_USAGE_MAX_UPLOAD_BYTES", 2 * 1024 * 1024 * 1024, minimum=1024)
CEK_USAGE_DUCKDB_MEMORY_MB = env_int("CEK_USAGE_DUCKDB_MEMORY_MB", 256, minimum=64)
CEK_USAGE_DUCKDB_THREADS = env_int("CEK_USAGE_DUCKDB_THREADS", 2, minimum=1)
CEK_USAGE_STALE_MINUTES = env_int("CEK_USAGE_STALE_MINUTES", 30, minimum=1)
# Misuse rules: an active key with no use for this long (in a store whose logs are ingested) is dormant; a store
# whose newest ingested usage is older than CEK_USAGE_FRESH_DAYS is not covered (AG-9, dormancy).
CEK_USAGE_DORMANT_DAYS = env_int("CEK_USAGE_DORMANT_DAYS", 90, minimum=1)
CEK_USAGE_FRESH_DAYS = env_int("CEK_USAGE_FRESH_DAYS", 7, minimum=1)
# Workers write a heartbeat every CEK_WORKER_HEARTBEAT_SECONDS; /healthz answers 503 when none is younger than
# CEK_HEALTHZ_WORKER_SECONDS (0: report the worker, never fail on it).
CEK_WORKER_HEARTBEAT_SECONDS = env_int("CEK_WORKER_HEARTBEAT_SECONDS", 10, minimum=1)
CEK_HEALTHZ_WORKER_SECONDS = env_int("CEK_HEALTHZ_WORKER_SECONDS", 60, minimum=0)
# Alerts on new findings of the detection rules (IaC gate, key usage): e-mail to the key's owners and GRC for these
# severities; webhooks (``SEVERITIES URL`` entries separated by ';'), each POST signed with HMAC-SHA256 using
# CEK_ALERT_WEBHOOK_SECRET (or _FILE); attempts per notification (backoff 30 s doubling, at most 10 min); a
# notification queued or sending this long without a sign of life is queued again, then failed.
CEK_ALERT_EMAIL_SEVERITIES = env_severities("CEK_ALERT_EMAIL_SEVERITIES", "medium,high,critical")
CEK_ALERT_WEBHOOKS = env_webhooks("CEK_ALERT_WEBHOOKS")
CEK_ALERT_WEBHOOK_SECRET = env_secret("CEK_ALERT_WEBHOOK_SECRET")
if CEK_ALERT_WEBHOOKS and len(CEK_ALERT_WEBHOOK_SECRET) < 32:
    raise EnvError("CEK_ALERT_WEBHOOKS is set: CEK_ALERT_WEBHOOK_SECRET must hold at least 32 characters to sign them.")
CEK_ALERT_MAX_ATTEMPTS = env_int("CEK_ALERT_MAX_ATTEMPTS", 6, minimum=1)
CEK_ALERT_TIMEOUT_SECONDS = env_int("CEK_ALERT_TIMEOUT_SECONDS", 10, minimum=1)
CEK_ALERT_STALE_MINUTES = env_int("CEK_ALERT_STALE_MINUTES", 20, minimum=11)
DATA_UPLOAD_MAX_MEMORY_SIZE = CEK_IMPORT_MAX_BYTES + 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("CEK_LOG_LEVEL", "INFO")},
    # A refused request (403) is routine: one line with the user and the path, not a traceback.
    "filters": {"forbidden_one_line": {"()": "cek.logfilters.ForbiddenOneLine"}},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "django.request": {"filters": ["forbidden_one_line"]},
    },
}
