"""Casedesk settings, all from the environment.

DATABASE_URL           PostgreSQL (postgres://...) for real deployments; default: SQLite in
                       the data directory, which needs nothing but Python.
CASEDESK_DATA_DIR      where the SQLite file, the secret key and uploads live
                       (default: ~/.local/share/casedesk, or $XDG_DATA_HOME/casedesk).
CASEDESK_SECRET_KEY    default: generated once and kept in the data directory.
CASEDESK_DEBUG         "1" for development only.
CASEDESK_ALLOWED_HOSTS comma-separated (default: localhost names and the host of BASE_URL).
CASEDESK_BASE_URL      the address people use to reach this installation.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from casedesk.common.datadir import data_dir

BASE_DIR = Path(__file__).resolve().parent


DATA_DIR = data_dir()


def _secret_key() -> str:
    key = os.environ.get("CASEDESK_SECRET_KEY")
    if key:
        return key
    path = DATA_DIR / "secret_key"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(50))
    return path.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = os.environ.get("CASEDESK_DEBUG") == "1"
ALLOWED_HOSTS = [
    h.strip()
    for h in os.environ.get("CASEDESK_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]").split(",")
    if h.strip()
]
BASE_URL = os.environ.get("CASEDESK_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
_base = urlparse(BASE_URL)
BASE_ORIGIN = f"{_base.scheme}://{_base.netloc}" if _base.scheme and _base.netloc else ""
# The host of the address people use is always one this installation answers to, also
# beside a list given (`casedesk run --host` sets that address).
_base_host = f"[{_base.hostname}]" if ":" in (_base.hostname or "") else _base.hostname
if _base_host and _base_host not in ALLOWED_HOSTS and "*" not in ALLOWED_HOSTS:
    ALLOWED_HOSTS.append(_base_host)

# -- behind a reverse proxy (README "Behind a reverse proxy") ---------------------------
# The header a TLS-terminating proxy sets to "https" on requests that came over TLS, e.g.
# X-Forwarded-Proto. The proxy must set (or remove) it on every request: whoever can send
# it to Casedesk directly can claim a secure connection.
CASEDESK_PROXY_SSL_HEADER = os.environ.get("CASEDESK_PROXY_SSL_HEADER", "").strip()
if CASEDESK_PROXY_SSL_HEADER:
    SECURE_PROXY_SSL_HEADER = (
        "HTTP_" + CASEDESK_PROXY_SSL_HEADER.upper().replace("-", "_"),
        "https",
    )
# Origins (scheme://host[:port]) whose forms may post here besides the request's own: the
# origin of CASEDESK_BASE_URL always, and any others given (comma-separated).
CSRF_TRUSTED_ORIGINS = [BASE_ORIGIN] if BASE_ORIGIN else []
CSRF_TRUSTED_ORIGINS += [
    o.strip().rstrip("/")
    for o in os.environ.get("CASEDESK_CSRF_TRUSTED_ORIGINS", "").split(",")
    if o.strip()
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_tasks",
    "django_tasks_db",
    "ninja",
    "casedesk.accounts",
    "casedesk.jobs",
    "casedesk.desks",
    "casedesk.tickets",
    "casedesk.releases",
    "casedesk.sheets",
    "casedesk.quotes",
    "casedesk.sla",
    "casedesk.web",
    "casedesk.portal",
    "casedesk.agent",
    "casedesk.ops",
    "casedesk.mail",
    "django_htmx",
    "casedesk.api",
    "casedesk.webhooks",
]

MIDDLEWARE = [
    # first, so it times and logs everything below it
    "casedesk.ops.metrics.RequestMetrics",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "casedesk.api.middleware.ApiErrorShape",
    "casedesk.web.middleware.RequestSizeLimit",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "casedesk.web.middleware.UserLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "casedesk.web.middleware.SecurityHeadersMiddleware",
]

ROOT_URLCONF = "casedesk.urls"
WSGI_APPLICATION = "casedesk.wsgi.application"

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
                "django.template.context_processors.i18n",
            ],
        },
    },
]


def _database() -> dict[str, Any]:
    url = os.environ.get("DATABASE_URL")
    if url:
        config = dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True)
        config.setdefault("TEST", {})["NAME"] = os.environ.get("CASEDESK_TEST_DATABASE")
        # the kept reads (common/rows.py, server-side binding) are prepared on their
        # connection from their fifth use on; Django's own cursors bind on the client and
        # are never prepared
        config["OPTIONS"] = {"prepare_threshold": 5, **(config.get("OPTIONS") or {})}
        return dict(config)
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": DATA_DIR / "casedesk.sqlite3",
        # Each web thread keeps its connection between requests, as on PostgreSQL: opening
        # one (and its PRAGMAs) cost more than a whole /health request besides.
        "CONN_MAX_AGE": 600,
        "OPTIONS": {
            # Take the write lock when a transaction starts, so two writers queue up
            # instead of failing when one upgrades a read lock.
            "transaction_mode": "IMMEDIATE",
            "timeout": 30,
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
            ),
        },
        "TEST": {"NAME": os.environ.get("CASEDESK_TEST_DATABASE")},
    }


DATABASES = {"default": _database()}
# An optional read replica of the PostgreSQL database (a streaming standby): the status
# guides and the invoice basis preview read from it while it lags at most
# CASEDESK_REPLICA_MAX_LAG_SECONDS, else from the primary (casedesk/common/replica.py).
CASEDESK_REPLICA_URL = os.environ.get("CASEDESK_REPLICA_URL", "")
CASEDESK_REPLICA_MAX_LAG_SECONDS = float(os.environ.get("CASEDESK_REPLICA_MAX_LAG_SECONDS", "30"))
if CASEDESK_REPLICA_URL:
    _replica: dict[str, Any] = dict(
        dj_database_url.parse(CASEDESK_REPLICA_URL, conn_max_age=60, conn_health_checks=True)
    )
    # a replica that is down must not hold a page up for long
    _replica["OPTIONS"] = {
        "connect_timeout": 3,
        "prepare_threshold": 5,
        **(_replica.get("OPTIONS") or {}),
    }
    _replica["TEST"] = {"MIRROR": "default"}
    DATABASES["replica"] = _replica
    DATABASE_ROUTERS = ["casedesk.common.replica.ReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
# Django's model backend and database sessions, each read in one kept statement
# (casedesk/accounts/signin.py). Django's own backend stays listed for the sessions that
# began with it: a session names the backend it was opened with.
AUTHENTICATION_BACKENDS = [
    "casedesk.accounts.signin.AccountBackend",
    "django.contrib.auth.backends.ModelBackend",
]
SESSION_ENGINE = "casedesk.accounts.signin"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/login/"
CSRF_FAILURE_VIEW = "casedesk.web.views.csrf_failure"
# A password reset link works for a day.
PASSWORD_RESET_TIMEOUT = 24 * 3600

LANGUAGE_CODE = "en"
LANGUAGES = [
    ("en", "English"),
    ("da", "Dansk"),
    ("nl", "Nederlands"),
    ("cs", "Čeština"),
    ("sv", "Svenska"),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = "UTC"

MEDIA_ROOT = DATA_DIR / "media"
FILE_UPLOAD_PERMISSIONS = 0o640
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o750
# One attachment may be at most this large; a request may carry at most this many files.
CASEDESK_MAX_ATTACHMENT_BYTES = int(os.environ.get("CASEDESK_MAX_ATTACHMENT_BYTES", 25 * 1024**2))
CASEDESK_MAX_ATTACHMENTS = 20
DATA_UPLOAD_MAX_NUMBER_FILES = CASEDESK_MAX_ATTACHMENTS
DATA_UPLOAD_MAX_NUMBER_FIELDS = 1000
# Request bodies: `casedesk run`'s server refuses a larger one before reading it, and
# web/middleware.py's RequestSizeLimit refuses by kind before anything parses it: files
# (multipart) up to CASEDESK_MAX_REQUEST_BYTES, anything else up to 2.5 MB (Django's own
# DATA_UPLOAD_MAX_MEMORY_SIZE), and 64 KB from someone not signed in (logging in, a reset).
CASEDESK_MAX_REQUEST_BYTES = int(os.environ.get("CASEDESK_MAX_REQUEST_BYTES", 100 * 1024**2))
CASEDESK_MAX_ANONYMOUS_BYTES = 64 * 1024
# The reverse proxies in front of Casedesk (addresses or networks, comma-separated): from
# them, the client's address is read from X-Forwarded-For for the limits per address.
CASEDESK_TRUSTED_PROXIES = [
    p.strip() for p in os.environ.get("CASEDESK_TRUSTED_PROXIES", "").split(",") if p.strip()
]

STATIC_URL = "/static/"
# Static files are served by WhiteNoise straight from the installed package, so the
# embedded default needs no collectstatic step; set CASEDESK_STATIC_ROOT to collect them.
# `casedesk serve` collects them into <data dir>/static: then their names carry a hash of
# their content (cached for a year) and each has a gzip copy beside it.
STATIC_ROOT = os.environ.get("CASEDESK_STATIC_ROOT") or None
WHITENOISE_USE_FINDERS = STATIC_ROOT is None
# Where files on tickets are stored: Django's storage API, the local disk (MEDIA_ROOT) by
# default; another backend by its dotted path with its options as JSON, e.g. django-storages'
# storages.backends.s3.S3Storage and {"bucket_name": "casedesk"} (README "Files").
CASEDESK_FILE_STORAGE = os.environ.get(
    "CASEDESK_FILE_STORAGE", "django.core.files.storage.FileSystemStorage"
)


def _storage_options() -> dict[str, Any]:
    text = os.environ.get("CASEDESK_FILE_STORAGE_OPTIONS") or "{}"
    try:
        options = json.loads(text)
    except ValueError as exc:
        raise ImproperlyConfigured(f"CASEDESK_FILE_STORAGE_OPTIONS is not JSON: {exc}") from None
    if not isinstance(options, dict):
        raise ImproperlyConfigured("CASEDESK_FILE_STORAGE_OPTIONS must be a JSON object")
    return options


CASEDESK_FILE_STORAGE_OPTIONS = _storage_options()
STORAGES: dict[str, dict[str, Any]] = {
    "default": {"BACKEND": CASEDESK_FILE_STORAGE, "OPTIONS": CASEDESK_FILE_STORAGE_OPTIONS},
    "staticfiles": {
        "BACKEND": "casedesk.ops.staticfiles.StaticFiles"
        if STATIC_ROOT
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
LANGUAGE_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SECURE = False
SECURE_HSTS_SECONDS = 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = os.environ.get("CASEDESK_HSTS_SUBDOMAINS") == "1"
SECURE_HSTS_PRELOAD = os.environ.get("CASEDESK_HSTS_PRELOAD") == "1"
# Plain-http requests are sent to https when the address people use is https and Casedesk
# can tell (TLS here, or the proxy's header); monitoring may ask these over plain http.
SECURE_SSL_REDIRECT = False
SECURE_REDIRECT_EXEMPT = [r"^health$", r"^ready$", r"^metrics$"]
if BASE_URL.startswith("https://"):
    SECURE_SSL_REDIRECT = (
        os.environ.get("CASEDESK_SSL_REDIRECT", "1" if CASEDESK_PROXY_SSL_HEADER else "0") == "1"
    )
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    LANGUAGE_COOKIE_SECURE = True
    # Sent on every answer (web/middleware.py), also when TLS ends at a proxy: browsers
    # heed it only on an https connection, so it cannot harm a plain-http request.
    SECURE_HSTS_SECONDS = 31536000
    # __Host- cookies are bound to this host and path: a sibling subdomain cannot set them.
    SESSION_COOKIE_NAME = "__Host-casedesk-session"
    CSRF_COOKIE_NAME = "__Host-casedesk-csrf"
# A session ends two weeks after logging in.
SESSION_COOKIE_AGE = 14 * 24 * 3600


# How often the worker looks for due timers; a timer fires within this many seconds.
CASEDESK_WORKER_INTERVAL = float(os.environ.get("CASEDESK_WORKER_INTERVAL", "5"))

# Who lays out workflow diagrams: `auto` (Graphviz `dot` when installed, else dagre in the
# browser) or `browser` (always dagre).
CASEDESK_DIAGRAM_LAYOUT = (
    "browser"
    if os.environ.get("CASEDESK_DIAGRAM_LAYOUT", "").strip().lower() == "browser"
    else "auto"
)

# -- mail (casedesk/mail; see README "Mail") --------------------------------------------
# Where all mail goes out (notifications, ad-hoc mail, password resets):
# smtp://[user:password@]host[:port], smtps:// (TLS from the start) or smtp+starttls://.
# Unset, mail is written to the log instead: nothing leaves a development machine by accident.
CASEDESK_SMTP_URL = os.environ.get("CASEDESK_SMTP_URL", "")
# The domain of Message-IDs and of the default sender address.
CASEDESK_MAIL_DOMAIN = os.environ.get("CASEDESK_MAIL_DOMAIN") or (
    BASE_URL.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0] or "localhost"
)
CASEDESK_MAIL_FROM = os.environ.get("CASEDESK_MAIL_FROM") or f"casedesk@{CASEDESK_MAIL_DOMAIN}"
DEFAULT_FROM_EMAIL = CASEDESK_MAIL_FROM
if CASEDESK_SMTP_URL:  # Django's own mail (password resets) goes the same way
    _smtp = urlparse(CASEDESK_SMTP_URL)
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = _smtp.hostname or "127.0.0.1"
    EMAIL_USE_SSL = _smtp.scheme == "smtps"
    EMAIL_USE_TLS = _smtp.scheme == "smtp+starttls"
    EMAIL_PORT = _smtp.port or (465 if EMAIL_USE_SSL else 25)
    EMAIL_HOST_USER = unquote(_smtp.username or "")
    EMAIL_HOST_PASSWORD = unquote(_smtp.password or "")
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
# Larger mails are refused whole, with a reason to the sender.
CASEDESK_MAIL_MAX_BYTES = int(os.environ.get("CASEDESK_MAIL_MAX_BYTES", 40 * 1024**2))
# Who a mail is from is believed only with proof (README "Mail", "Who wrote a mail").
# 1. The authserv-id of the receiving MTA's Authentication-Results header: its aligned
#    DMARC, DKIM or SPF pass proves the sender; its DMARC fail holds the mail.
CASEDESK_MAIL_AUTHSERV_ID = os.environ.get("CASEDESK_MAIL_AUTHSERV_ID", "")
# 2. Casedesk's own DKIM, SPF and DMARC check through DNS ("off" to turn it off); the
#    nameserver to ask ("host" or "host:port"; default: the system's resolver) and how
#    long one lookup may take, in seconds.
CASEDESK_MAIL_DNS_CHECK = os.environ.get("CASEDESK_MAIL_DNS_CHECK", "on").strip().lower() != "off"
CASEDESK_MAIL_DNS_SERVER = os.environ.get("CASEDESK_MAIL_DNS_SERVER", "")
CASEDESK_MAIL_DNS_TIMEOUT = float(os.environ.get("CASEDESK_MAIL_DNS_TIMEOUT", "5"))
# 3. Replies to a notification's own reply address (desk+token@...): how many days that
#    address proves its recipient.
CASEDESK_MAIL_REPLY_DAYS = int(os.environ.get("CASEDESK_MAIL_REPLY_DAYS", "60"))
# Sending: attempts before a mail counts as failed (shown to staff).
CASEDESK_MAIL_MAX_ATTEMPTS = int(os.environ.get("CASEDESK_MAIL_MAX_ATTEMPTS", "8"))

# REST API: requests per minute and token (a token may have its own limit).
CASEDESK_API_RATE_LIMIT = int(os.environ.get("CASEDESK_API_RATE_LIMIT", "600"))
# Bad tokens per minute from one address before its requests are refused with 429.
CASEDESK_API_AUTH_FAILURE_LIMIT = 20
# Webhooks: attempts per delivery, and failed attempts in a row before a subscription is
# switched off.
CASEDESK_WEBHOOK_MAX_ATTEMPTS = 8
# Tries at handing one history entry to a consumer (mail, webhooks) before it is held.
CASEDESK_OUTBOX_MAX_ATTEMPTS = int(os.environ.get("CASEDESK_OUTBOX_MAX_ATTEMPTS", "8"))
# Tries at firing a due ticket timer whose firing fails before it is held.
CASEDESK_TIMER_MAX_ATTEMPTS = int(os.environ.get("CASEDESK_TIMER_MAX_ATTEMPTS", "8"))
CASEDESK_WEBHOOK_DISABLE_AFTER = 20
# Seconds a worker has to finish a claimed mail, webhook or outbox entry before another
# worker may take it (after the first one died, say); longer than any one try may take.
CASEDESK_JOB_LEASE_SECONDS = float(os.environ.get("CASEDESK_JOB_LEASE_SECONDS", "600"))

# -- operations (README "Running in production") ---------------------------------------
# /ready answers 503 when no worker was seen for this many seconds (0: do not ask).
CASEDESK_READY_WORKER_SECONDS = float(
    os.environ.get("CASEDESK_READY_WORKER_SECONDS", max(60.0, 3 * CASEDESK_WORKER_INTERVAL))
)
# /metrics (Prometheus) answers only with `Authorization: Bearer <this>`; unset, it is a 404.
CASEDESK_METRICS_TOKEN = os.environ.get("CASEDESK_METRICS_TOKEN", "")

# Logs: "text" (default) or "json", one object a line with the record's fields.
CASEDESK_LOG_FORMAT = os.environ.get("CASEDESK_LOG_FORMAT", "text").strip().lower()
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "text": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "casedesk.common.logs.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json" if CASEDESK_LOG_FORMAT == "json" else "text",
        }
    },
    "loggers": {
        "casedesk": {
            "handlers": ["console"],
            "level": os.environ.get("CASEDESK_LOG_LEVEL", "INFO"),
        },
        # server errors (500s) with their traceback
        "django.request": {"handlers": ["console"], "level": "ERROR", "propagate": False},
    },
}
