"""Settings for cellsadmin, read from the environment only.

Embedded defaults: SQLite and local files under ``DATA_DIR`` (``var/``). ``DATABASE_URL`` switches to
PostgreSQL, ``REDIS_URL`` adds a shared cache, ``BLOB_S3_ENDPOINT`` and ``BLOB_S3_BUCKET`` put file contents into
an S3-compatible object store. On SQLite, secrets that are not given are generated once into ``DATA_DIR`` so that
a fresh clone runs without any configuration; with a database server they must come from the environment
(``cellsadmin.checks``).
"""

from __future__ import annotations

import ipaddress
import math
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

DATA_DIR = Path(env.str("DATA_DIR", default=str(BASE_DIR / "var"))).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)


def _generated_secret(name: str) -> str:
    """A random secret kept in ``DATA_DIR/name``: created on first use, the same ever after."""
    path = DATA_DIR / name
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        value = secrets.token_urlsafe(48)
        # O_EXCL: when two processes start at once, one writes and both read the same value.
        try:
            with path.open("x") as handle:
                handle.write(value + "\n")
            path.chmod(0o600)
        except FileExistsError:
            pass
        return path.read_text().strip()


def _positive_seconds(name: str, default: float) -> float:
    """A duration in seconds from the environment (``default`` when unset or empty): a finite number above
    zero, or the start-up stops naming the variable, rather than the first request that needs it failing."""
    text = env.str(name, default="").strip()
    if not text:
        return default
    try:
        seconds = float(text)
    except ValueError:
        seconds = math.nan
    if not 0 < seconds < math.inf:  # also NaN
        raise ImproperlyConfigured(f"{name} must be a positive number of seconds, not {text!r}.")
    return seconds


DEBUG = env.bool("DEBUG", default=False)

DATABASES = {
    # An empty DATABASE_URL means the default, as an unset one does.
    "default": env.db_url_config(env.str("DATABASE_URL", default="") or f"sqlite:///{DATA_DIR / 'cellsadmin.sqlite3'}"),
}
_ON_SQLITE = DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3"

# Secrets. A database server may be shared by several instances, which must all hold the same keys: one
# generated into a machine's own DATA_DIR would refuse every token and session made by the others. So they are
# generated only on SQLite; with a database server a missing one stays empty and the start-up check
# (cellsadmin.checks) refuses to run, naming it.
_secret_key = env.str("SECRET_KEY", default="")
_token_peppers = env.list("TOKEN_PEPPERS", default=[])
#: The secrets the environment did not give.
SECRETS_NOT_GIVEN = [
    name for name, value in (("SECRET_KEY", _secret_key), ("TOKEN_PEPPERS", _token_peppers)) if not value
]
SECRET_KEY = _secret_key or (_generated_secret("secret_key") if _ON_SQLITE else "")
# Where people and scripts reach this instance, in the examples the console shows; unset, the console names the
# address each request came to. E-mails and the command line answer no request: they fall back to `make run`'s.
PUBLIC_URL = env.str("PUBLIC_URL", default="")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]", "testserver"])

# Token pepper keys, newest first: "2:new-secret,1:old-secret". The first one hashes; the others are still
# accepted. A token row stores the version that hashed it; a row under a smaller version than the first key's is
# re-hashed with it on its next use.
TOKEN_PEPPERS = _token_peppers or (["1:" + _generated_secret("token_pepper")] if _ON_SQLITE else [])
# Longest life a token may be given, by either expiration model.
TOKEN_MAX_LIFETIME = env.str("TOKEN_MAX_LIFETIME", default="365d")
# Duration the console's create dialog offers first.
TOKEN_DEFAULT_DURATION = env.str("TOKEN_DEFAULT_DURATION", default="30d")
# How long an expired token stays listed before it is pruned (its audit records stay).
TOKEN_RETENTION = env.str("TOKEN_RETENTION", default="90d")
# Live (unexpired) tokens one user may hold; 0 for no limit.
TOKEN_MAX_PER_USER = env.int("TOKEN_MAX_PER_USER", default=50)
# Failed authentications allowed per client IP (and per token id) within a window of so many seconds.
AUTH_FAILURE_LIMIT = env.int("AUTH_FAILURE_LIMIT", default=30)
AUTH_FAILURE_WINDOW = env.int("AUTH_FAILURE_WINDOW", default=60)
# Reports of leaked tokens (POST /api/v1/tokens/revoke-leaked, unauthenticated) allowed per client IP within a
# window of so many seconds.
LEAK_REPORT_LIMIT = env.int("LEAK_REPORT_LIMIT", default=10)
LEAK_REPORT_WINDOW = env.int("LEAK_REPORT_WINDOW", default=60)
# Whether a WebDAV client may still sign in with the user's password instead of a token.
WEBDAV_ALLOW_PASSWORD = env.bool("WEBDAV_ALLOW_PASSWORD", default=True)
# The S3 gateway's secret access key, the same for every token (the PAT is the access key ID): clients need it
# to sign, and the signature guards a request's integrity, not who sent it.
S3_GATEWAY_SECRET = env.str("S3_GATEWAY_SECRET", default="gatewaysecret")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials",
    "ninja",
    "csp",
    # The domain, lowest layer first, then the adapters over it, then the project (see the README's Layout).
    "people",
    "files",
    "tokens",
    "dav",
    "console",
    "cellsadmin",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "api.head.HeadLikeGet",
    "api.api.JsonMethodNotAllowed",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "console.time_zones.ViewerTimeZone",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "cellsadmin.urls"
WSGI_APPLICATION = "cellsadmin.wsgi.application"

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

# A new connection per request costs more than the token check itself.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
# Off by default: on a database server the check is one more round trip ("SELECT 1") on every request, as much as
# a token check. Without it, a connection the server dropped (a restart) fails the one request that finds it with
# 503 and Retry-After (lib.unavailable), and Django then replaces it.
DATABASES["default"]["CONN_HEALTH_CHECKS"] = env.bool("CONN_HEALTH_CHECKS", default=False)
# PostgreSQL: the statements every request runs (the token, the path, a new file's row) are prepared once per
# connection (lib.prepared), which spares the server planning them again on each request. Off behind a
# connection pooler in transaction mode that cannot carry prepared statements (PgBouncer before 1.21).
DATABASE_PREPARED = env.bool("DATABASE_PREPARED", default=True)
if not _ON_SQLITE and DATABASE_PREPARED:
    # psycopg prepares nothing while this is None (Django's default). Django's own cursors bind their values
    # client-side and are never prepared, whatever the threshold: only lib.prepared's cursor asks.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("prepare_threshold", 5)
if _ON_SQLITE:
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }

REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="cellsadmin"),
        }
    }
else:
    # Files under DATA_DIR, not each process's memory: gunicorn's workers must count failed sign-ins and
    # password guesses together (tokens.throttle), or every worker would allow its own share of guesses.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(DATA_DIR / "cache"),
            "OPTIONS": {"MAX_ENTRIES": 100_000},
        }
    }

AUTH_USER_MODEL = "people.User"
AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]
# Failed password checks for one login, on any protocol (console, WebDAV) and from any address, before its
# password is refused everywhere for the cool-down; its tokens keep working (tokens.throttle).
LOGIN_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
LOGIN_COOLOFF = timedelta(minutes=env.int("LOGIN_COOLOFF_MINUTES", default=15))
LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/login/"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
# Serve from the finders too, so that a run without collectstatic still has its styles.
WHITENOISE_USE_FINDERS = True
# File contents: local files under DATA_DIR, or an S3-compatible object store (files.object_storage) that every
# instance shares. Blobs that a crash or an unreachable store left behind are removed by `manage.py blobs_prune`.
BLOB_S3_ENDPOINT = env.str("BLOB_S3_ENDPOINT", default="")
BLOB_S3_BUCKET = env.str("BLOB_S3_BUCKET", default="")
if bool(BLOB_S3_ENDPOINT) != bool(BLOB_S3_BUCKET):
    raise ImproperlyConfigured("BLOB_S3_ENDPOINT and BLOB_S3_BUCKET go together: set both, or neither.")
# Seconds: a store that refuses connections fails at once; one that accepts and then says nothing fails after
# these (on each of three attempts), and the request gets 503.
BLOB_S3_CONNECT_TIMEOUT = _positive_seconds("BLOB_S3_CONNECT_TIMEOUT", 5)
BLOB_S3_READ_TIMEOUT = _positive_seconds("BLOB_S3_READ_TIMEOUT", 30)
BLOB_STORAGE: dict[str, Any] = (
    {
        "BACKEND": "files.object_storage.ObjectStorage",
        "OPTIONS": {
            "endpoint_url": BLOB_S3_ENDPOINT,
            "bucket_name": BLOB_S3_BUCKET,
            # Empty: boto3 looks for credentials itself (its environment variables, an instance role).
            "access_key": env.str("BLOB_S3_ACCESS_KEY", default="") or None,
            "secret_key": env.str("BLOB_S3_SECRET_KEY", default="") or None,
            "region_name": env.str("BLOB_S3_REGION", default="us-east-1"),
            "connect_timeout": BLOB_S3_CONNECT_TIMEOUT,
            "read_timeout": BLOB_S3_READ_TIMEOUT,
        },
    }
    if BLOB_S3_ENDPOINT
    else {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(DATA_DIR / "files")},
    }
)
STORAGES = {
    "default": BLOB_STORAGE,
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage",
    },
}
# Uploads are streamed to temporary files here, then moved into the storage.
FILE_UPLOAD_TEMP_DIR = DATA_DIR / "tmp"
FILE_UPLOAD_TEMP_DIR.mkdir(parents=True, exist_ok=True)
# Largest file an upload may create (REST and WebDAV), in bytes.
MAX_UPLOAD_SIZE = env.int("MAX_UPLOAD_SIZE", default=2 * 1024**3)
# Largest WebDAV request body that is XML (every method but PUT), in bytes: PROPFIND, PROPPATCH and LOCK bodies
# are read into memory and parsed whole, so a larger one is refused (413) before it is read.
DAV_MAX_XML_BODY = 1024**2
# Whether an upload is flushed to disk (fsync) before the node points at it. Off, as in Apache's mod_dav and
# WsgiDAV: an upload is still atomic (a new blob, switched to in a transaction); only a power loss or kernel
# crash right after a write could leave its node pointing at content the disk never got (README, Production).
FSYNC_UPLOADS = env.bool("FSYNC_UPLOADS", default=False)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
if EMAIL_CONFIG["EMAIL_BACKEND"] == "django.core.mail.backends.console.EmailBackend":
    EMAIL_CONFIG["EMAIL_BACKEND"] = "lib.console_mail.EmailBackend"
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="cellsadmin@localhost")

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

# Served over HTTPS (directly, or behind a proxy that sets X-Forwarded-Proto: see TRUST_X_FORWARDED_PROTO):
# redirect plain HTTP, send HSTS, mark cookies secure.
HTTPS = env.bool("HTTPS", default=False)
if HTTPS:
    SECURE_SSL_REDIRECT = True
    SECURE_HSTS_SECONDS = env.int("HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("HSTS_INCLUDE_SUBDOMAINS", default=True)
    SECURE_HSTS_PRELOAD = env.bool("HSTS_PRELOAD", default=False)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    if not SECURE_HSTS_PRELOAD:
        # Preloading is a commitment to HTTPS for good, made on purpose (HSTS_PRELOAD=true), not by default.
        SILENCED_SYSTEM_CHECKS = ["security.W021"]
# Only behind a proxy that always sets (and never forwards a client's) X-Forwarded-Proto.
if env.bool("TRUST_X_FORWARDED_PROTO", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# Load balancers and reverse proxies in front of the application (addresses or networks): a request from one of
# them is counted (throttles, last use, audit) under the client address it appends to
# X-Forwarded-For (lib.client_address). Empty: the peer's address, whatever the header says.
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=[])
for _proxy in TRUSTED_PROXIES:
    try:
        ipaddress.ip_network(_proxy.strip(), strict=False)
    except ValueError:
        raise ImproperlyConfigured(f"TRUSTED_PROXIES: {_proxy!r} is not an IP address or network.") from None

# No inline scripts anywhere: the console's few lines of JavaScript are static files.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "font-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        # On every handler: a token a client put into a URL (or an exception message) is logged as its public id.
        "redact_tokens": {"()": "tokens.redaction.RedactTokens"},
        "dav_client_refusals": {"()": "dav.errors.ClientRefusals"},
    },
    "formatters": {
        "django.server": {
            "()": "django.utils.log.ServerFormatter",
            "format": "[{server_time}] {message}",
            "style": "{",
        },
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "filters": ["redact_tokens"]},
        "django.server": {"class": "logging.StreamHandler", "formatter": "django.server", "filters": ["redact_tokens"]},
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        # Named here so that Django's default handlers for them (which know no redaction) are replaced.
        "django": {"level": "INFO"},
        "django.server": {"handlers": ["django.server"], "level": "INFO", "propagate": False},
        # The request logger repeats full URLs and is silenced below WARNING.
        "django.request": {"level": "ERROR"},
        # WsgiDAV silences its logger (NullHandler, no propagation) unless it is configured here.
        "wsgidav": {"handlers": ["console"], "level": "ERROR", "propagate": False},
        # An upload refused while its body is stored (412, 413, 423) is answered, not a failure to log.
        "wsgidav.request_server": {"filters": ["dav_client_refusals"]},
    },
}
