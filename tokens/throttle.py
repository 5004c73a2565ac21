"""Failed-authentication throttling, shared by every process through the cache (Redis in production).

Three counters, all in the cache:

- failures from a client IP, per fixed window (``AUTH_FAILURE_LIMIT`` per ``AUTH_FAILURE_WINDOW``): an IP over
  its limit is refused whatever it presents, the right secret too, until the window ends;
- failures naming a token's public id, per the same window: over the limit, further *failures* become "too many
  attempts", while the right secret still works: the id is public, so an attacker must not be able to lock its
  owner out, and a valid token used from another IP is never throttled by someone else's failures;
- failed *password* checks per login, whatever the protocol (console, WebDAV) and the address
  (``LOGIN_FAILURE_LIMIT`` per ``LOGIN_COOLOFF``): the failure that reaches the limit locks the login's password
  for the cool-down on every protocol. Only the password: the login's tokens keep working, so a user's scripts
  go on while someone guesses their password. A correct password clears the count.

A token that authenticates costs no cache round trip. The failure that brings an IP to its limit also writes an
:class:`AddressLockout` row into the database, and the token lookup reads that row in the statement that reads
the token (``tokens.lookup``): a locked-out address is refused there, before its secret is compared. Only a
refusal asks the cache (:func:`check`, then :func:`record_failure`). A password request reads what it needs in
one round trip before the password is checked: its address's counter, the login's lock and count. Writes happen
only on a failure, or on the success that clears earlier failures.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import models


class Throttled(Exception):
    """Too many failed attempts (or too many of a rate-limited request); try again after ``retry_after`` seconds."""

    def __init__(self, retry_after: int, what: str = "failed attempts") -> None:
        super().__init__(f"Too many {what}; retry after {retry_after} s.")
        self.retry_after = retry_after


class PasswordLocked(Throttled):
    """The login's password failed too often (on any protocol): it is refused until the cool-down ends."""

    def __init__(self, retry_after: int) -> None:
        Exception.__init__(self, f"Too many failed sign-ins for this login; retry after {retry_after} s.")
        self.retry_after = retry_after


@dataclass(frozen=True)
class _Window:
    start: int
    seconds: int

    @classmethod
    def now(cls, seconds: int) -> _Window:
        return cls(start=int(time.time()) // seconds * seconds, seconds=seconds)

    @property
    def end(self) -> int:
        return self.start + self.seconds

    @property
    def retry_after(self) -> int:
        return max(1, self.end - int(time.time()))

    def key(self, kind: str, value: str) -> str:
        return f"authfail:{kind}:{value}:{self.start}"


class AddressLockout(models.Model):
    """A client address that reached ``AUTH_FAILURE_LIMIT`` in the current window, until the window ends.

    The cache's counter decides; this row repeats its verdict where the token lookup reads it with the token, so
    that a request with a good token needs no cache round trip to learn whether its address is locked out."""

    address = models.TextField(primary_key=True)
    #: When the lockout ends, in seconds since 1970 (as the cache's windows count).
    locked_until = models.BigIntegerField()

    def __str__(self) -> str:
        return f"{self.address} until {self.locked_until}"

    @staticmethod
    def lock(address: str, *, until: int) -> None:
        """Lock ``address`` out until ``until``; lockouts that have ended are deleted on the way."""
        AddressLockout.objects.filter(locked_until__lte=int(time.time())).delete()
        AddressLockout.objects.bulk_create(
            [AddressLockout(address=address, locked_until=until)],
            update_conflicts=True,
            unique_fields=["address"],
            update_fields=["locked_until"],
        )


def locked_out(locked_until: int | None) -> Throttled | None:
    """The refusal for an address whose lockout (as the token lookup read it) has not ended, else None."""
    if locked_until is None or locked_until <= time.time():
        return None
    return Throttled(max(1, locked_until - int(time.time())))


def _failure_window() -> _Window:
    return _Window.now(settings.AUTH_FAILURE_WINDOW)


def _cooloff_seconds() -> int:
    return max(1, int(settings.LOGIN_COOLOFF.total_seconds()))


def _login_id(login: str) -> str:
    # Logins are unique regardless of case, so "Bob" and "bob" share one counter. Hashed: a login may hold any
    # character, and a cache key should not (nor should the cache list who was attacked).
    return hashlib.sha256(login.lower().encode("utf-8", "surrogatepass")).hexdigest()[:32]


@dataclass(frozen=True)
class Gate:
    """What :func:`check` read for a request; :func:`record_failure` and :func:`record_password_success` use it
    to count and clear without reading again."""

    login_id: str | None = None
    password_failures: int = 0


def _lock_key(login_id: str) -> str:
    return f"authfail:password-lock:{login_id}"


def _password_key(login_id: str) -> str:
    return _Window.now(_cooloff_seconds()).key("password", login_id)


def _add(key: str, seconds: int) -> int:
    # add() creates the counter with its window's lifetime; incr() is atomic in Redis and in local memory.
    cache.add(key, 0, timeout=seconds + 1)
    try:
        return int(cache.incr(key))
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=seconds + 1)
        return 1


def check(*, ip: str | None, password_login: str | None = None) -> Gate:
    """Raise :class:`Throttled` when ``ip`` has failed too often in this window, :class:`PasswordLocked` when a
    password is about to be checked for ``password_login`` and that login is locked. One cache round trip, no
    database query. ``password_login`` is None when no password will be checked (a refused token): a token
    request never reads the password counters."""
    window = _failure_window()
    keys: list[str] = []
    ip_key = window.key("ip", ip) if ip is not None else None
    if ip_key is not None:
        keys.append(ip_key)
    login_id = _login_id(password_login) if password_login is not None else None
    if login_id is not None:
        keys += [_lock_key(login_id), _password_key(login_id)]
    if not keys:
        return Gate()
    found = cache.get_many(keys) if len(keys) > 1 else {keys[0]: cache.get(keys[0])}
    if ip_key is not None and int(found.get(ip_key) or 0) >= settings.AUTH_FAILURE_LIMIT:
        raise Throttled(window.retry_after)
    if login_id is None:
        return Gate()
    locked_until = found.get(_lock_key(login_id))
    # The end of the lock is kept in the value, not only in the key's lifetime: it says how long to wait.
    if locked_until is not None and int(locked_until) > time.time():
        raise PasswordLocked(max(1, int(locked_until) - int(time.time())))
    return Gate(login_id=login_id, password_failures=int(found.get(_password_key(login_id)) or 0))


def record_failure(*, gate: Gate, ip: str | None, token_id: str | None, password_checked: bool) -> None:
    """Count a failure; raise :class:`Throttled` when it crosses a limit, so that the caller answers 429.

    ``password_checked``: a password was compared and did not match (or named no active user); only then does
    the login's counter grow. The failure that reaches ``LOGIN_FAILURE_LIMIT`` locks the password for
    ``LOGIN_COOLOFF`` and is answered :class:`PasswordLocked` already."""
    window = _failure_window()
    over = False
    if ip is not None:
        failures = _add(window.key("ip", ip), window.seconds)
        if failures == settings.AUTH_FAILURE_LIMIT:
            # The failure that reaches the limit (exactly one: the count is atomic) locks the address out for the
            # token lookup too.
            AddressLockout.lock(ip, until=window.end)
        over |= failures > settings.AUTH_FAILURE_LIMIT
    if token_id is not None:
        over |= _add(window.key("token", token_id), window.seconds) > settings.AUTH_FAILURE_LIMIT
    if password_checked and gate.login_id is not None:
        cooloff = _cooloff_seconds()
        if _add(_password_key(gate.login_id), cooloff) >= settings.LOGIN_FAILURE_LIMIT:
            locked_until = int(time.time()) + cooloff
            cache.set(_lock_key(gate.login_id), locked_until, timeout=cooloff + 1)
            raise PasswordLocked(cooloff)
    if over:
        raise Throttled(window.retry_after)


def count_leak_report(ip: str | None) -> None:
    """Count a report of leaked tokens from ``ip`` (anyone may send one, unauthenticated): past
    ``LEAK_REPORT_LIMIT`` in a window of ``LEAK_REPORT_WINDOW`` seconds, :class:`Throttled`. One cache round trip,
    no database query."""
    window = _Window.now(settings.LEAK_REPORT_WINDOW)
    if _add(window.key("leak", ip or "unknown"), window.seconds) > settings.LEAK_REPORT_LIMIT:
        raise Throttled(window.retry_after, "leak reports from this address")


def record_password_success(gate: Gate) -> None:
    """The login's password matched: earlier failures no longer count. A write only when there were some."""
    if gate.login_id is not None and gate.password_failures:
        cache.delete(_password_key(gate.login_id))
