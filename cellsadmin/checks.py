"""Start-up checks of the instance's configuration.

With a database server, several instances may share one database: every one of them must hold the same
``SECRET_KEY`` (sessions, CSRF) and ``TOKEN_PEPPERS`` (token digests), so both must come from the environment
(:func:`shared_secrets`). ``TOKEN_PEPPERS`` must also read as a list of keys (:func:`token_peppers`): a mistyped one
would otherwise fail every token on its first use. Both are system checks (``manage.py check``, ``migrate`` and
every other command run them) and :func:`refuse_to_start` runs them when the WSGI application loads, so that no
server starts without them.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from tokens import format as token_format

#: The tag of the checks :func:`refuse_to_start` runs.
TAG = "secrets"


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


def register() -> None:
    checks.register(shared_secrets, TAG)
    checks.register(token_peppers, TAG)


def refuse_to_start() -> None:
    """Raise ImproperlyConfigured with the first error of the start-up checks, on one line."""
    errors = [message for message in checks.run_checks(tags=[TAG]) if message.is_serious()]
    if errors:
        raise ImproperlyConfigured(f"{errors[0].id}: {errors[0].msg}")
