"""Template filters of the console."""

from __future__ import annotations

import html
from datetime import datetime

from django import template
from django.utils import timezone
from django.utils.safestring import mark_safe

register = template.Library()

_UNITS = [(365 * 86400, "year"), (30 * 86400, "month"), (86400, "day"), (3600, "hour"), (60, "minute")]


def _amount(seconds: float) -> str:
    """One unit, rounded (2 days 23 hours reads "3 days"), switching unit only when the larger reads well."""
    if seconds < 45:
        return "a few seconds"
    for size, name in _UNITS:
        # 1.5 units and up in the larger unit; below that the smaller one says more (35 hours, not "1 day").
        if seconds >= size * 1.5 or size == 60:
            count = max(1, round(seconds / size))
            return f"{count} {name}{'s' if count != 1 else ''}"
    raise AssertionError("unreachable")


@register.filter
def relative(value: datetime | None, now: datetime | None = None) -> str:
    """``in 3 days`` or ``2 hours ago``."""
    # Not Django's naturaltime: it writes "4 weeks, 2 days from now" where the console says "in 30 days".
    if value is None:
        return ""
    seconds = (value - (now or timezone.now())).total_seconds()
    if abs(seconds) < 45:
        return "just now"
    return f"in {_amount(seconds)}" if seconds > 0 else f"{_amount(-seconds)} ago"


#: What ``{% moment %}`` writes for each style: the text and, for "relative", the absolute time as a tooltip.
_MOMENT_FORMATS = {
    "minutes": "%Y-%m-%d %H:%M %Z",
    "seconds": "%Y-%m-%d %H:%M:%S %Z",
    "time": "%H:%M:%S %Z",
    "date": "%Y-%m-%d",
}


@register.simple_tag
def moment(value: datetime | None, style: str = "minutes") -> str:
    """A ``<time>`` element in the current time zone, the zone always named (``2026-12-14 17:31 CET``).

    ``style`` is ``minutes``, ``seconds``, ``time``, ``date`` or ``relative`` ("in 3 days", the absolute time as its
    tooltip). Written with strftime in one call: a list shows several per row, and the ``date`` filter costs
    several times as much for each."""
    if value is None:
        return ""
    local = timezone.localtime(value)
    absolute = local.strftime(_MOMENT_FORMATS["minutes" if style == "relative" else style])
    if style == "relative":
        attributes, text = f' title="{html.escape(absolute)}"', html.escape(relative(value))
    else:
        # A narrow column may wrap between the date and the time, never inside either ("2026-12-" / "14 17:31").
        attributes, text = (
            "",
            " ".join(f'<span class="nowrap">{html.escape(part)}</span>' for part in absolute.split(" ", 1)),
        )
    # Every part is escaped here (the ISO form has no character to escape).
    return mark_safe(f'<time class="moment" datetime="{local.isoformat()}"{attributes}>{text}</time>')  # noqa: S308
