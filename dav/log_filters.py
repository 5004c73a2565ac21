"""Logging filters for WsgiDAV's logger (configured in ``cellsadmin.settings.LOGGING``).

Kept apart from the rest of ``dav``: logging is configured before Django's apps are loaded, so nothing
here may import a model.
"""

from __future__ import annotations

import logging

from wsgidav.dav_error import DAVError


class ClientRefusals(logging.Filter):
    """Drops WsgiDAV's ``PUT: byte copy failed`` (logged with a traceback at ERROR) when what failed was a
    refusal the client is answered with: over the size limit (413), a changed version (412), a lock (423).
    Those are answers, not failures; a server error still logs."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        return not (isinstance(error, DAVError) and 400 <= error.value < 500)
