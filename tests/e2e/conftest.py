"""Fixtures of the browser tests: one chromium per module, a fresh context per test on the live server."""

from __future__ import annotations

import os

import pytest

from tests.support.browser import chromium
from tests.support.tools import require_tool


@pytest.fixture(scope="module")
def browser():
    executable = require_tool("chromium")
    pytest.importorskip("playwright")
    # Playwright's sync API runs an event loop in this thread; the ORM calls of the test itself are still
    # synchronous, one at a time.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with chromium(executable) as launched:
            yield launched
    finally:
        # Process-wide: it must not leak into later tests (a deploy check counts it as an error).
        if previous is None:
            del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def page(browser, live_server, demo):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def rclone_program() -> str:
    """rclone, for the WebDAV and S3 tests that drive it."""
    return require_tool("rclone")
