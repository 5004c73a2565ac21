"""The logging filter that keeps tokens out of every log line (installed on each handler: ``LOGGING`` in the
settings, and gunicorn's own handlers in ``gunicorn.conf.py``).

A client may put a token where it does not belong (``/api/v1/me?token=cpat_…``, ``/dav/cpat_…``), and the
access log, Django's request log or an exception message would then repeat it. The filter rewrites each record
it passes, once, so that every handler after it sees the redacted line as well. Nothing here may import a
model: logging is configured before Django's apps are loaded.
"""

from __future__ import annotations

import logging

from tokens.format import PREFIX, redact


class RedactTokens(logging.Filter):
    """Replaces every ``cpat_…`` in a record (its message, arguments, traceback and stack) by its public part."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError, KeyError):  # arguments that do not fit the message: log both, redacted
            message = f"{record.msg} {record.args!r}"
        if PREFIX in message:
            record.msg, record.args = redact(message), ()
        if record.exc_info and not record.exc_text:
            # Formatted here, as the handler's formatter would, so that the cached text is the redacted one.
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text and PREFIX in record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info and PREFIX in record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True
