"""Start-up checks of the instance's configuration.

With a database server, several instances may share one database: every one of them must hold the same
``SECRET_KEY`` (sessions, CSRF) and ``TOKEN_PEPPERS`` (token digests), so both must come from the environment
(:func:`shared_secrets`). ``TOKEN_PEPPERS`` must also read as a list of keys (:func:`token_peppers`), and the token
policy's durations and limits must read as such (:func:`token_policy`): a mistyped one would otherwise fail every
token, or every creation, on its first use. All are system checks (``manage.py check``, ``migrate`` and
every other command run them) and :func:`refuse_to_start` runs them when the WSGI application loads, so that no
server starts without them.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from tokens import format as token_format
from tokens.durations import DurationError, parse_duration

#: The settings that are durations (``20d``, ``1d12h``), read where they are used.
DURATIONS = ("TOKEN_MAX_LIFETIME", "TOKEN_DEFAULT_DURATION", "TOKEN_RETENTION")
#: The settings that count or measure something (0 allowed, as each documents), read where they are used.
COUNTS = (
    "TOKEN_MAX_PER_USER",
    "AUTH_FAILURE_LIMIT",
    "AUTH_FAILURE_WINDOW",
    "LEAK_REPORT_LIMIT",
    "LEAK_REPORT_WINDOW",
    "LOGIN_FAILURE_LIMIT",
    "MAX_UPLOAD_SIZE",
)

#: The tag of the checks :func:`refuse_to_start` runs.
TAG = "startup"


def shared_secrets(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """An error naming the secrets the environment did not give, when the database is a server."""
    missing = settings.SECRETS_NOT_GIVEN
    if settings.DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3" or not missing:
        return []
    names = " and ".join(missing)
    verb = "are" if len(missing) > 1 else "is"
    return [
        checks.Error(
            f"{names} {verb} not set: with a database server (DATABASE_URL) both must come from the environment, "
            "the same on every instance, or each instance would refuse the tokens and sessions of the others.",
            id="cellsadmin.E001",
        )
    ]


def token_peppers(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """An error saying what is wrong with ``TOKEN_PEPPERS`` when it is given but unusable (not VERSION:KEY, a
    version twice)."""
    if not settings.TOKEN_PEPPERS:
        return []  # shared_secrets says so where it matters; SQLite generates one
    try:
        token_format.check_peppers(settings.TOKEN_PEPPERS)
    except ImproperlyConfigured as error:
        return [checks.Error(str(error), id="cellsadmin.E002")]
    return []


def token_policy(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """An error for each policy setting that does not read as what it is: a duration (:data:`DURATIONS`) or a
    number that is not negative (:data:`COUNTS`). Read only where they are used, a mistyped one would otherwise
    fail or quietly turn off what uses it (every creation, the pruning), long after the start."""
    messages: list[checks.CheckMessage] = []
    for name in DURATIONS:
        try:
            parse_duration(str(getattr(settings, name)))
        except DurationError as error:
            messages.append(checks.Error(f"{name}: {error}.", id="cellsadmin.E003"))
    for name in COUNTS:
        if getattr(settings, name) < 0:
            messages.append(checks.Error(f"{name} must not be negative.", id="cellsadmin.E004"))
    return messages


def register() -> None:
    checks.register(shared_secrets, TAG)
    checks.register(token_peppers, TAG)
    checks.register(token_policy, TAG)


def refuse_to_start() -> None:
    """Raise ImproperlyConfigured with the first error of the start-up checks, on one line."""
    errors = [message for message in checks.run_checks(tags=[TAG]) if message.is_serious()]
    if errors:
        raise ImproperlyConfigured(f"{errors[0].id}: {errors[0].msg}")
