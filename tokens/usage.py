"""How a token's use is noted on its row: the slack that keeps the last-use write to about once a minute, and
the latest distinct ways it was used (SPEC §4). ``PersonalAccessToken._record_use`` writes what these say."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

#: Last-used details are written at most this often per token.
LAST_USED_SLACK = timedelta(minutes=1)
#: How many distinct (IP, protocol, user agent) combinations a token remembers.
RECENT_USES = 20


def refresh_slack(window: timedelta) -> timedelta:
    """How far the stored expiry may lag behind ``now + window`` before a use writes it forward."""
    return min(LAST_USED_SLACK, window / 10)


def note_use(
    uses: list[dict[str, Any]], *, at: datetime, ip: str | None, protocol: str, agent: str
) -> list[dict[str, Any]]:
    """``uses`` with this way of use moved to the front (first seen kept), at most RECENT_USES long."""
    when = at.isoformat()
    first_seen = when
    rest = []
    for use in uses:
        if (use.get("ip"), use.get("protocol"), use.get("agent")) == (ip, protocol, agent):
            first_seen = use.get("first_seen", when)
        else:
            rest.append(use)
    entry = {"ip": ip, "protocol": protocol, "agent": agent, "first_seen": first_seen, "last_seen": when}
    return [entry, *rest][:RECENT_USES]
