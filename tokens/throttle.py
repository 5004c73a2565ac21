"""Failed-authentication throttling, shared by every process through the cache (Redis in production).

Two counters per fixed window: failures from a client IP, and failures naming a token's public id. A client IP
over its limit is refused before anything is checked. A token id over its limit turns further *failures* into
"too many attempts", while the right secret still works: the id is public, so an attacker must not be able to
lock its owner out, and a valid token used from another IP is never throttled by someone else's failures.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache


class Throttled(Exception):
    """Too many failed attempts; try again after ``retry_after`` seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"Too many failed attempts; retry after {retry_after} s.")
        self.retry_after = retry_after


@dataclass(frozen=True)
class _Window:
    start: int
    seconds: int

    @classmethod
    def now(cls) -> _Window:
        seconds = settings.AUTH_FAILURE_WINDOW
        return cls(start=int(time.time()) // seconds * seconds, seconds=seconds)

    @property
    def retry_after(self) -> int:
        return max(1, self.start + self.seconds - int(time.time()))

    def key(self, kind: str, value: str) -> str:
        return f"authfail:{kind}:{value}:{self.start}"


def _count(key: str) -> int:
    value = cache.get(key)
    return int(value) if value is not None else 0


def _add(key: str, window: _Window) -> int:
    # add() creates the counter with the window's lifetime; incr() is atomic in Redis and in local memory.
    cache.add(key, 0, timeout=window.seconds + 1)
    try:
        return int(cache.incr(key))
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=window.seconds + 1)
        return 1


def check_client(ip: str | None) -> None:
    """Raise Throttled when ``ip`` has failed too often in this window (no database query)."""
    if ip is None:
        return
    window = _Window.now()
    if _count(window.key("ip", ip)) >= settings.AUTH_FAILURE_LIMIT:
        raise Throttled(window.retry_after)


def record_failure(*, ip: str | None, token_id: str | None) -> None:
    """Count a failure; raise Throttled when it crosses a limit, so that the caller answers 429."""
    window = _Window.now()
    over = False
    if ip is not None:
        over |= _add(window.key("ip", ip), window) > settings.AUTH_FAILURE_LIMIT
    if token_id is not None:
        over |= _add(window.key("token", token_id), window) > settings.AUTH_FAILURE_LIMIT
    if over:
        raise Throttled(window.retry_after)
