"""Reading the one-time reveal of a new token out of console responses."""

from __future__ import annotations

import re

_FIELD = re.compile(r'id="new-token"[^>]*value="(cpat_[^"]+)"')


def revealed(html: str) -> str | None:
    """The secret in a page or fragment's Token field, or None when it shows none."""
    match = _FIELD.search(html)
    return match[1] if match else None


def raw_token(response, client=None) -> str:
    """The secret a create or rotate response reveals: in the fragment itself (htmx), or on the tab its redirect
    leads to (without JavaScript, followed with ``client``)."""
    if response.status_code == 303:
        assert client is not None, "a redirect needs the client to follow it"
        response = client.get(response["Location"])
    html = response.content.decode()
    raw = revealed(html)
    assert raw, html
    return raw
