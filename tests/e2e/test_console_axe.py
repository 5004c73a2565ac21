"""axe-core on every page and dialog state of the console, light and dark, desktop and phone, with data that
has expired, never-used, scoped and long-label tokens: no violation."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from tests.support.browser import log_in, settled
from tokens.services import token_delete

pytestmark = pytest.mark.system

LONG_LABEL = "nightly backup of the research group's shared drive to the offsite object store, keep until 2030"


@pytest.fixture
def varied_tokens(demo):
    alpha = demo.node("/common/projects/alpha")
    paper = demo.node("/research/paper.txt")
    demo.token(demo.alice, label=LONG_LABEL, expires_in=timedelta(days=300))
    demo.token(demo.alice, label="scoped sync", scopes=[f"node:{alpha.uuid}:rw", f"node:{paper.uuid}:r"])
    used, raw = demo.token(demo.alice, label="used by curl", expires_in=timedelta(days=3))
    type(used).objects.authenticate(raw, ip="192.0.2.7", protocol="REST", user_agent="curl/8.5.0")
    demo.token(demo.alice, label="auto", refresh_window=timedelta(hours=2), expires_in=timedelta(days=20))
    revoked, _raw = demo.token(demo.alice, label="lost laptop", expires_in=timedelta(days=30))
    token_delete(token=revoked, actor=demo.admin, via="console", reason="laptop lost")
    with time_machine.travel(timezone.now() - timedelta(days=10)):
        demo.token(demo.alice, label="expired job", expires_in=timedelta(days=2))
        demo.token(demo.bob, label="bob's expired", expires_in=timedelta(days=1))


def _violations(page) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe  # type: ignore[import-untyped]

    # Contrast is measured on what a person reads: after a dialog's fade-in, not halfway through it.
    page.evaluate("() => Promise.all(document.getAnimations().map(animation => animation.finished))")
    results = Axe().run(page)
    found = []
    for violation in results.response["violations"]:
        targets = [" ".join(node["target"]) for node in violation["nodes"]][:3]
        found.append(f"{violation['id']}: {violation['help']} at {targets}")
    return found


def _states(page) -> list[tuple[str, Callable[[], None]]]:
    from playwright.sync_api import expect

    def goto(path: str) -> Callable[[], None]:
        def go() -> None:
            page.goto(path)
            settled(page)

        return go

    def open_create() -> None:
        goto("/people/alice/tokens/")()
        page.get_by_role("button", name="Create a personal access token").click()
        expect(page.get_by_role("dialog")).to_be_visible()
        settled(page)

    def create_with_errors() -> None:
        open_create()
        dialog = page.get_by_role("dialog")
        dialog.get_by_label("Duration").fill("0")
        dialog.get_by_role("button", name="Generate").click()
        expect(dialog.get_by_role("alert")).to_be_visible()

    def picker_opened() -> None:
        open_create()
        dialog = page.get_by_role("dialog")
        dialog.get_by_text("Common Files", exact=True).click()
        expect(dialog.get_by_text("projects", exact=True)).to_be_visible()

    def revealed() -> None:
        open_create()
        dialog = page.get_by_role("dialog")
        dialog.get_by_label("Label").fill("axe reveal")
        dialog.get_by_role("button", name="Generate").click()
        expect(page.get_by_label("Token", exact=True)).to_be_focused()

    def row_dialog(action: str) -> Callable[[], None]:
        def open_it() -> None:
            goto("/people/alice/tokens/")()
            page.get_by_role("button", name=f"{action} scoped sync").click()
            expect(page.get_by_role("dialog")).to_be_visible()

        return open_it

    def details_open() -> None:
        goto("/people/alice/tokens/")()
        page.locator("summary", has_text="Details").first.click()
        expect(page.locator(".token-details[open] .details").first).to_be_visible()

    def inactive_shown() -> None:
        goto("/people/alice/tokens/")()
        page.get_by_role("link", name="Show inactive tokens").click()
        expect(page.locator("#inactive-list .token-label", has_text="expired job")).to_be_visible()
        expect(page.locator("#inactive-list .status-revoked")).to_have_text("Revoked")

    def bulk_dialog() -> None:
        goto("/tokens/")()
        page.locator('input[name="token"]').first.check()
        page.get_by_role("button", name="Delete selected…").click()
        expect(page.get_by_role("dialog")).to_be_visible()

    return [
        ("people", goto("/people/")),
        ("profile", goto("/people/alice/")),
        ("tokens tab", goto("/people/alice/tokens/")),
        ("locks tab", goto("/people/alice/locks/")),
        ("my tokens", goto("/me/tokens/")),
        ("preferences", goto("/me/preferences/")),
        ("inventory", goto("/tokens/")),
        ("inventory filtered", goto("/tokens/?status=expired")),
        ("audit", goto("/audit/")),
        ("policy", goto("/policy/")),
        ("create page", goto("/people/alice/tokens/new/")),
        ("create dialog", open_create),
        ("create dialog with errors", create_with_errors),
        ("scope picker opened", picker_opened),
        ("reveal", revealed),
        ("rotate dialog", row_dialog("Rotate")),
        ("delete dialog", row_dialog("Delete")),
        ("details open", details_open),
        ("inactive tokens", inactive_shown),
        ("bulk delete dialog", bulk_dialog),
    ]


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize(("device", "viewport"), [("desktop", (1280, 900)), ("phone", (390, 844))])
def test_no_accessibility_violation_anywhere(browser, live_server, demo, varied_tokens, scheme, device, viewport):
    width, height = viewport
    context = browser.new_context(
        base_url=live_server.url,
        viewport={"width": width, "height": height},
        color_scheme=scheme,
        is_mobile=device == "phone",
        has_touch=device == "phone",
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        page.goto("/login/")
        found = {"login": _violations(page)}
        log_in(page, "admin")
        for name, reach in _states(page):
            reach()
            found[name] = _violations(page)
    finally:
        context.close()
    failures = {name: violations for name, violations in found.items() if violations}
    assert not failures, failures
