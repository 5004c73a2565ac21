"""Playwright driving Debian's chromium (never a downloaded browser) for the browser tests and the screenshots."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@contextmanager
def chromium(executable: str = "/usr/bin/chromium") -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def log_in(page: Any, login: str) -> None:
    """Sign in through the console's login page with the demo password."""
    from tests.support.demo import DEMO_PASSWORD

    page.goto("/login/")
    page.get_by_label("Username").fill(login)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()


def settled(page: Any) -> None:
    """Wait until htmx has settled what it swapped in: it wires up the new content's hx- attributes only then
    (20 ms after the swap), and a button pressed before that does what it does without JavaScript."""
    from playwright.sync_api import expect

    # A locator, not wait_for_function: a predicate that has to be polled is eval'ed in the page, which the
    # console's CSP (no 'unsafe-eval') refuses, so that wait failed whenever htmx had not settled at once.
    expect(page.locator(".htmx-request, .htmx-swapping, .htmx-settling")).to_have_count(0)
