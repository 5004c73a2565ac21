"""The one parser for durations: ``<number><unit>`` with units s, m, h, d, w, and compounds like ``1d12h``.

A bare number means seconds only where the caller allows it (``-a`` in ``user_token``, as in Cells).
``format_duration`` writes the canonical compound form, which ``parse_duration`` reads back to the same value.
``in_utc`` brings a moment that a person typed into the range the database compares with.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

UNITS: dict[str, int] = {"w": 7 * 86400, "d": 86400, "h": 3600, "m": 60, "s": 1}
# Ten years: far beyond any sensible token, far below datetime's overflow.
LONGEST = timedelta(days=3653)

_PART = re.compile(r"(\d{1,12})([wdhms])")
_WHOLE = re.compile(r"(?:\d{1,12}[wdhms])+")


class DurationError(ValueError):
    """A duration that is empty, zero, negative, too long or not in the grammar."""


def parse_duration(text: str, *, bare_seconds: bool = False) -> timedelta:
    value = text.strip()
    if bare_seconds and value.isascii() and value.isdigit():
        value += "s"
    if value.startswith("-"):
        raise DurationError(f"invalid duration {text!r}: it must be positive")
    if value.isascii() and value.isdigit():
        raise DurationError(f"invalid duration {text!r}: add a unit (s, m, h, d or w), e.g. {value}d")
    if not value.isascii() or _WHOLE.fullmatch(value) is None:
        raise DurationError(f"invalid duration {text!r}: use a number and a unit (s, m, h, d, w), e.g. 20d or 1d12h")
    seconds = 0
    units_seen: set[str] = set()
    for number, unit in _PART.findall(value):
        if unit in units_seen:
            raise DurationError(f"invalid duration {text!r}: unit {unit!r} given twice")
        units_seen.add(unit)
        seconds += int(number) * UNITS[unit]
    if seconds <= 0:
        raise DurationError(f"invalid duration {text!r}: it must be longer than zero")
    if seconds > LONGEST.total_seconds():
        raise DurationError(f"invalid duration {text!r}: longer than {format_duration(LONGEST)}")
    return timedelta(seconds=seconds)


def format_duration(value: timedelta) -> str:
    """``timedelta(days=1, hours=12)`` → ``"1d12h"``; whole seconds only."""
    seconds = int(value.total_seconds())
    if seconds <= 0:
        return "0s"
    parts = []
    for unit, size in UNITS.items():
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts)


_WORDS = {"w": "week", "d": "day", "h": "hour", "m": "minute", "s": "second"}


def describe_duration(value: timedelta | str) -> str:
    """A duration in words for sentences: ``"365d"`` → ``"365 days"``, ``timedelta(hours=36)`` → ``"1 day 12
    hours"``. A string is read as written (``90d`` stays 90 days, never 12 weeks 6 days); anything that does not
    parse is returned as it is."""
    if isinstance(value, str):
        try:
            parse_duration(value)
        except DurationError:
            return value
        parts = [(int(number), unit) for number, unit in _PART.findall(value.strip())]
    else:
        parts = []
        seconds = max(int(value.total_seconds()), 0)
        for unit, size in UNITS.items():
            if unit == "w":
                continue
            count, seconds = divmod(seconds, size)
            if count:
                parts.append((count, unit))
    if not parts:
        return "0 seconds"
    return " ".join(f"{count} {_WORDS[unit]}{'s' if count != 1 else ''}" for count, unit in parts)


#: The first and last moments a datetime holds in UTC, the time zone the database compares in.
EARLIEST = datetime.min.replace(tzinfo=UTC)
LATEST = datetime.max.replace(tzinfo=UTC)


def in_utc(moment: datetime) -> datetime:
    """An aware ``moment`` in UTC. A typed moment beyond what a datetime holds there (the first hours of year 1
    east of Greenwich, the last ones of year 9999 west of it) becomes the first or last one: it compares with
    every stored moment as the typed one would, where converting it would overflow."""
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        return EARLIEST if moment.year == 1 else LATEST
