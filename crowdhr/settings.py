"""crowdhr's settings: everything from the environment, with defaults that run on one laptop.

The variables are declared in crowdhr/env.py. With DEBUG off (production) crowdhr refuses to
start without SECRET_KEY or with the local Mechanical Turk emulator.
"""

from __future__ import annotations

import hashlib
import ssl
import sys
from base64 import urlsafe_b64encode
from datetime import timedelta
from os import getpid
from pathlib import Path

import dj_database_url
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from crowdhr import env

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env.text("CROWDHR_VAR_DIR") or BASE_DIR / "var")

DEBUG = env.flag("DEBUG", default=not env.text("DYNO"))

SECRET_KEY = env.text("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "crowdhr-development-only-not-secret"

ALLOWED_HOSTS = env.listing("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.listing("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_celery_beat",
    "axes",
    "csp",
    "crowdhr",
    "platforms",
    "hits",
    "workers",
    "experiments",
    "experiments.workflow",
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
    "csp.middleware.CSPMiddleware",
    "axes.middleware.AxesMiddleware",
]

# --- Admin logins: throttled by django-axes (crowdhr/logins.py) -----------------------------
AUTHENTICATION_BACKENDS = ["crowdhr.logins.LoginThrottle", "django.contrib.auth.backends.ModelBackend"]
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False  # no start-up banner on stdout (management commands print results there)

# --- Content-Security-Policy on every page (django-csp); worker pages widen frame-ancestors for
# MTurk's frame (experiments/views.py), scripts run only with the page's nonce
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, "'unsafe-inline'"],
        "img-src": [SELF, "data:"],
        "object-src": [NONE],
        "base-uri": [SELF],
        "frame-ancestors": [SELF],
    }
}

ROOT_URLCONF = "crowdhr.urls"
LOGIN_URL = "admin:login"
LOGIN_REDIRECT_URL = "admin:index"
WSGI_APPLICATION = "crowdhr.wsgi.application"

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

# --- Database -----------------------------------------------------------------------------
DATABASES = {
    "default": dj_database_url.parse(
        env.text("DATABASE_URL", f"sqlite:///{VAR_DIR / 'crowdhr.sqlite3'}"),
        conn_max_age=60,
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web, worker and beat share one file on a laptop: wait for locks instead of failing,
    # and take the write lock at BEGIN so two writers never deadlock on an upgrade.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # One test database per test run, so concurrent runs on one machine never share a file.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-{getpid()}.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static and uploaded files ------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT.mkdir(exist_ok=True)
MEDIA_URL = "/media/"
MEDIA_ROOT = VAR_DIR / "media"
AWS_STORAGE_BUCKET_NAME = env.text("AWS_STORAGE_BUCKET_NAME")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
if AWS_STORAGE_BUCKET_NAME:
    STORAGES["default"] = {"BACKEND": "storages.backends.s3.S3Storage"}
    AWS_S3_REGION_NAME = env.text("AWS_S3_REGION_NAME") or None
    AWS_DEFAULT_ACL = None
    AWS_QUERYSTRING_AUTH = True

# --- Celery -------------------------------------------------------------------------------
REDIS_URL = env.text("REDIS_URL")
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND = REDIS_URL
    if REDIS_URL.startswith("rediss://"):
        # Heroku Redis speaks TLS with a self-signed certificate; Celery refuses rediss:// without this.
        CELERY_BROKER_USE_SSL = {"ssl_cert_reqs": ssl.CERT_NONE}
        CELERY_REDIS_BACKEND_USE_SSL = {"ssl_cert_reqs": ssl.CERT_NONE}
else:
    # No broker server on a laptop: kombu's filesystem transport keeps messages in var/.
    _broker_dir = VAR_DIR / "celery-broker"
    for _sub in ("out", "processed"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "out"),
        "data_folder_out": str(_broker_dir / "out"),
        "data_folder_processed": str(_broker_dir / "processed"),
        # Exchange tables (kombu's default is ./control, wherever the process was started).
        "control_folder": str(_broker_dir / "control"),
    }
    CELERY_RESULT_BACKEND = f"file://{_broker_dir / 'results'}"
    (_broker_dir / "results").mkdir(parents=True, exist_ok=True)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BEAT_SCHEDULE = {
    "heartbeat": {"task": "crowdhr.tasks.heartbeat", "schedule": 60.0},
    # A cycle still queued when the next is due is dropped: cycles never pile up behind a slow one.
    "review-active-hits": {
        "task": "hits.tasks.review_active_hits",
        "schedule": 60.0,
        "options": {"expire_seconds": 55},
    },
    # The safety net of the cheap check for news: every active HIT's assignments listed hourly.
    "review-full-sweep": {
        "task": "hits.tasks.review_active_hits",
        "schedule": 60 * 60.0,
        "kwargs": {"full": True},
        "options": {"expire_seconds": 55 * 60},
    },
    # Hosted tasks: workers who left without stopping end after the assignment duration.
    "hosted-places-left": {
        "task": "experiments.workflow.tasks.end_places_left",
        "schedule": 5 * 60.0,
        "options": {"expire_seconds": 4 * 60},
    },
    # Scores changed on the platform behind crowdhr's back (or a write lost there) are re-sent.
    "repair-score-drift": {
        "task": "workers.tasks.repair_score_drift",
        "schedule": 15 * 60.0,
        "options": {"expire_seconds": 14 * 60},
    },
}

# --- Crowd platforms ----------------------------------------------------------------------
MTURK_ENDPOINT = env.text("MTURK_ENDPOINT", "emulator" if DEBUG else "sandbox")
MTURK_EMULATOR_URL = env.text("MTURK_EMULATOR_URL", "http://127.0.0.1:8000/emulator/mturk/")
ALLOW_EMULATOR_IN_PRODUCTION = env.flag("ALLOW_EMULATOR_IN_PRODUCTION")
EMULATOR_ENABLED = MTURK_ENDPOINT == "emulator"
if EMULATOR_ENABLED and not DEBUG and not ALLOW_EMULATOR_IN_PRODUCTION:
    raise ImproperlyConfigured(
        "MTURK_ENDPOINT=emulator is the local Mechanical Turk for development and tests; "
        "production (DEBUG off) must use 'sandbox' or 'live'."
    )
if EMULATOR_ENABLED:
    INSTALLED_APPS.append("mturk_emulator")
    INSTALLED_APPS.append("prolific_emulator")
    # the local MTurk's marketplace frames a HIT's ExternalURL (crowdhr, then oTree) like MTurk does
    CONTENT_SECURITY_POLICY["DIRECTIVES"]["frame-src"] = [SELF, "http:", "https:"]
# The local MTurk accepts ExternalQuestion URLs on plain http://localhost / 127.0.0.1 (crowdhr served locally).
MTURK_EMULATOR_ALLOW_PLAIN_HTTP_LOCALHOST = EMULATOR_ENABLED
MTURK_DEFAULT_ACCESS_KEY_ID = env.text("AWS_ACCESS_KEY_ID")
MTURK_DEFAULT_SECRET_ACCESS_KEY = env.text("AWS_SECRET_ACCESS_KEY")
# Prolific: live accounts spend real money only where PROLIFIC_LIVE is set; the local Prolific
# (the twin under /emulator/prolific/) only where the emulators are enabled.
PROLIFIC_LIVE = env.flag("PROLIFIC_LIVE")
PROLIFIC_EMULATOR_URL = env.text("PROLIFIC_EMULATOR_URL", "http://127.0.0.1:8000/emulator/prolific/api/v1/")
# HITs one review cycle works on at once (each mostly waits for the platform).
REVIEW_THREADS = 4
# MTurk's request rate limit per requester account, (requests per second, burst): about 20 a
# second. crowdhr paces its CreateHIT calls to it (`platforms.pacing`); None: unpaced.
MTURK_RATE_LIMIT: tuple[float, float] | None = (20, 10)
# CreateHIT calls one publish has in flight. The pace keeps them to the rate limit, so this needs
# only to cover the rate times a call's round trip (20/s x 0.8 s on a slow day; bench/publish.py).
PUBLISH_CONCURRENCY = 16
SITE_URL = env.text("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
# Below this effective hourly wage (reward plus bonuses over the median work time) crowdhr warns the
# researcher; the default is the US federal minimum wage.
MINIMUM_HOURLY_WAGE = env.text("MINIMUM_HOURLY_WAGE", "7.25")

# Stored secrets (MTurk secret keys, oTree REST keys) are encrypted with this Fernet key.
SECRETS_ENCRYPTION_KEY = env.text("SECRETS_ENCRYPTION_KEY")
if not SECRETS_ENCRYPTION_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRETS_ENCRYPTION_KEY must be set when DEBUG is off.")
    SECRETS_ENCRYPTION_KEY = urlsafe_b64encode(hashlib.sha256(SECRET_KEY.encode()).digest()).decode()

# --- E-mail -------------------------------------------------------------------------------
EMAIL_URL = env.text("EMAIL_URL")
DEFAULT_FROM_EMAIL = env.text("DEFAULT_FROM_EMAIL", "crowdhr@localhost")
if EMAIL_URL:
    from urllib.parse import unquote, urlparse

    _mail = urlparse(EMAIL_URL)
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = _mail.hostname or "localhost"
    EMAIL_PORT = _mail.port or 587
    EMAIL_HOST_USER = unquote(_mail.username or "")
    EMAIL_HOST_PASSWORD = unquote(_mail.password or "")
    EMAIL_USE_TLS = _mail.scheme in {"smtp+tls", "submission"} or EMAIL_PORT == 587
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"

# --- Production safety --------------------------------------------------------------------
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    if EMULATOR_ENABLED:  # test-only: boto3 reaches the local MTurk over plain HTTP on loopback
        SECURE_REDIRECT_EXEMPT.append(r"^emulator/")
    SECURE_HSTS_SECONDS = 60 * 60 * 24 * 365
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SESSION_COOKIE_HTTPONLY = True
    SECURE_CONTENT_TYPE_NOSNIFF = True

# --- Logging: one structured line per event on stdout -------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"structured": {"()": "crowdhr.logs.StructuredFormatter"}},
    "handlers": {
        "stdout": {"class": "logging.StreamHandler", "stream": sys.stdout, "formatter": "structured"}
    },
    "root": {"handlers": ["stdout"], "level": env.text("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

SENTRY_DSN = env.text("SENTRY_DSN")
if SENTRY_DSN:
    import sentry_sdk

    sentry_sdk.init(dsn=SENTRY_DSN, send_default_pii=False)
