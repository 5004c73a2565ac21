"""Django's console e-mail backend, on standard error.

The embedded default has no mail server, so e-mails are printed where the operator sees them. Standard output
belongs to the commands' own results: ``user_token -q`` prints the token and nothing else, and a script that
reads it must not get the owner's notification in front of it.
"""

from __future__ import annotations

import sys
from typing import Any

from django.core.mail.backends import console


class EmailBackend(console.EmailBackend):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("stream", sys.stderr)
        super().__init__(*args, **kwargs)
