"""E-mail backends for tests."""

from __future__ import annotations

from collections.abc import Sequence

from django.core.mail import EmailMessage
from django.core.mail.backends.base import BaseEmailBackend

#: The dotted path to set as ``EMAIL_BACKEND``.
UNREACHABLE = "tests.support.mail_support.UnreachableMailServer"


class UnreachableMailServer(BaseEmailBackend):
    """A mail server that cannot be reached: every send fails as the SMTP backend's would."""

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        raise ConnectionRefusedError(111, "Connection refused")
