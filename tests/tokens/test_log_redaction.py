"""No log line shows a token: whatever logger writes it, a ``cpat_…`` string is logged as its public id only."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.test import Client
from hypothesis import given
from hypothesis import strategies as st

from tokens import format as token_format
from tokens.format import redact

RAW, PARTS = token_format.generate()


@contextmanager
def written_by(logger_name: str) -> Iterator[io.StringIO]:
    """What the handlers configured for ``logger_name`` (its own and those it propagates to) write meanwhile."""
    output = io.StringIO()
    swapped: list[tuple[logging.StreamHandler[Any], Any]] = []
    logger: logging.Logger | None = logging.getLogger(logger_name)
    while logger is not None:
        for handler in logger.handlers:
            if type(handler) is logging.StreamHandler:
                # Swapped, not setStream(): that flushes the old stream, which may be an earlier test's
                # captured stderr, closed by now.
                swapped.append((handler, handler.stream))
                handler.stream = output
        logger = logger.parent if logger.propagate else None
    try:
        yield output
    finally:
        for handler, stream in swapped:
            handler.stream = stream


def test_a_token_becomes_its_public_id():
    assert redact(f"GET /api/v1/me?token={RAW} HTTP/1.1") == (
        f"GET /api/v1/me?token=cpat_{PARTS.lookup_id}[redacted] HTTP/1.1"
    )


def test_a_malformed_token_shows_nothing_after_the_prefix():
    assert redact("/dav/cpat_notAToken123/x") == "/dav/cpat_[redacted]/x"


@given(st.text(alphabet=token_format.ALPHABET + "/?=&_ -", max_size=80), st.text(alphabet="/?=&_ -", max_size=5))
def test_no_secret_survives_redaction(before, after):
    assert PARTS.secret not in redact(before + RAW + after)


def test_runserver_request_lines_are_redacted():
    with written_by("django.server") as output:
        logging.getLogger("django.server").info('"%s" %s %s', f"GET /api/v1/me?token={RAW} HTTP/1.1", "401", "52")
    assert f"cpat_{PARTS.lookup_id}[redacted]" in output.getvalue()
    assert PARTS.secret not in output.getvalue()


def test_request_warnings_are_redacted(caplog):
    with caplog.at_level(logging.WARNING, logger="django.request"):
        Client().get(f"/api/v1/{RAW}")
    assert caplog.records
    assert PARTS.secret not in caplog.text


def test_webdav_log_lines_are_redacted():
    with written_by("wsgidav") as output:
        logging.getLogger("wsgidav").error("PROPFIND /dav/%s failed", RAW)
    assert "cpat_[redacted]" not in output.getvalue()
    assert f"cpat_{PARTS.lookup_id}[redacted]" in output.getvalue()
    assert PARTS.secret not in output.getvalue()


def test_an_exception_logged_with_a_token_in_its_message_is_redacted():
    with written_by("cellsadmin") as output:
        try:
            raise ValueError(f"bad path /dav/{RAW}")
        except ValueError:
            logging.getLogger("cellsadmin").exception("request failed")
    assert "ValueError: bad path /dav/cpat_" in output.getvalue()
    assert PARTS.secret not in output.getvalue()


def _handlers() -> Iterator[tuple[str, logging.Handler]]:
    loggers = [logging.getLogger(), *(logging.getLogger(name) for name in logging.Logger.manager.loggerDict)]
    for logger in loggers:
        for handler in logger.handlers:
            if isinstance(handler, logging.NullHandler) or type(handler).__module__.startswith("_pytest"):
                continue  # writes nothing / the test runner's own capture
            yield logger.name, handler


def test_every_configured_handler_redacts_tokens():
    unredacted = [name for name, handler in _handlers() if not any(_redacts(found) for found in handler.filters)]
    assert unredacted == []


def _redacts(log_filter: object) -> bool:
    return type(log_filter).__name__ == "RedactTokens"
