"""The text a page shows, without its markup."""

from __future__ import annotations

import re

_TAG = re.compile(r"<[^>]+>")


def text_of(html: str) -> str:
    """``html`` with every tag removed: what a reader sees, for assertions on wording rather than markup."""
    return _TAG.sub("", html)
