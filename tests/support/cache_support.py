"""Counting what a request asks the cache (each call is one round trip to Redis)."""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import Any

from django.core.cache import caches

OPERATIONS = ("get", "get_many", "set", "set_many", "add", "incr", "decr", "delete", "delete_many", "touch", "has_key")


class CacheCalls:
    """Within ``with``: ``names`` lists every call made to the default cache, ``keys`` every key they named."""

    def __init__(self) -> None:
        self.names: list[str] = []
        self.keys: list[str] = []
        self._originals: dict[str, Callable[..., Any]] = {}
        self._depth = 0

    def __enter__(self) -> CacheCalls:
        backend = caches["default"]
        for name in OPERATIONS:
            original = getattr(backend, name)
            self._originals[name] = original
            setattr(backend, name, self._recording(name, original))
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        backend = caches["default"]
        for name in self._originals:
            delattr(backend, name)

    def _recording(self, name: str, original: Callable[..., Any]) -> Callable[..., Any]:
        def call(first: Any, *args: Any, **kwargs: Any) -> Any:
            # Only the outermost call: local memory's get_many() calls get() per key, Redis sends one MGET.
            if self._depth == 0:
                self.names.append(name)
                self.keys.extend([first] if isinstance(first, str) else list(first))
            self._depth += 1
            try:
                return original(first, *args, **kwargs)
            finally:
                self._depth -= 1

        return call
