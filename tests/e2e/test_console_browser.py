"""The console in a real browser (Playwright driving Debian's chromium) against pytest-django's live server."""

from __future__ import annotations

import re

import pytest

from tests.support.browser import log_in, settled
from tokens.models import PersonalAccessToken

pytestmark = pytest.mark.system


def open_alices_tokens(page) -> None:
    log_in(page, "admin")
    page.get_by_role("link", name="alice", exact=True).click()
    page.wait_for_url("**/people/alice/")
    page.evaluate("window.__tabs = 'kept'")
    page.get_by_role("link", name="Personal Access Tokens").click()
    page.wait_for_url("**/people/alice/tokens/")
    page.get_by_role("heading", name="Personal Access Tokens", exact=True).wait_for()
    # The tab switched in place (htmx, URL pushed), without loading a new page.
    assert page.evaluate("window.__tabs") == "kept"
    settled(page)


def test_people_search_filters_as_you_type(page):
    from playwright.sync_api import expect

    log_in(page, "admin")
    page.evaluate("window.__stayed = 'yes'")
    page.get_by_label("Search people").press_sequentially("bo")
    expect(page.get_by_role("link", name="alice", exact=True)).to_have_count(0)
    expect(page.get_by_role("link", name="bob", exact=True)).to_be_visible()
    page.wait_for_url("**/people/?q=bo")
    assert page.evaluate("window.__stayed") == "yes"


def test_admin_creates_uses_and_deletes_a_token(page, demo):
    from playwright.sync_api import expect

    open_alices_tokens(page)
    # Survives only as long as no navigation happens.
    page.evaluate("window.__stayed = 'yes'")

    page.get_by_role("button", name="Create a personal access token").click()
    dialog = page.get_by_role("dialog", name="Create a Personal Access Token")
    expect(dialog).to_be_visible()
    dialog.get_by_label("Label").fill("sync from the browser")
    dialog.get_by_label("Auto Refresh").check()
    dialog.get_by_label("Duration").fill("2")
    dialog.get_by_label("Unit").select_option(label="Hours")
    # Folders load as they are opened.
    dialog.get_by_text("Common Files", exact=True).click()
    dialog.get_by_text("projects", exact=True).click()
    dialog.get_by_label("Access to /common/projects/alpha").select_option(label="rw (read & write)")
    dialog.get_by_role("button", name="Generate").click()

    token_field = page.get_by_label("Token", exact=True)
    expect(token_field).to_have_value(re.compile(r"^cpat_"))
    expect(page.get_by_text("will not be shown again")).to_be_visible()
    expect(token_field).to_be_focused()
    raw = token_field.input_value()
    token = PersonalAccessToken.objects.authenticate(raw)
    assert token is not None and token.owner == demo.alice and token.is_auto_refresh
    assert token.scopes == [f"node:{demo.node('/common/projects/alpha').uuid}:rw"]

    # The dialog made way for the panel with the secret; dismissing it returns to "+".
    expect(page.get_by_role("dialog")).to_have_count(0)
    page.get_by_role("link", name="I have copied the token").click()
    expect(token_field).to_have_count(0)
    expect(page.get_by_role("button", name="Create a personal access token")).to_be_focused()
    row = page.get_by_role("row").filter(has_text="sync from the browser")
    expect(row).to_contain_text("Active")
    expect(row).to_contain_text("Auto Refresh (2h)")
    expect(row).to_contain_text("/common/projects/alpha")

    page.get_by_role("button", name="Delete sync from the browser").click()
    confirm = page.get_by_role("dialog", name="Delete “sync from the browser”?")
    confirm.get_by_role("button", name="Delete token").click()
    expect(row).to_have_count(0)
    expect(page.get_by_role("dialog")).to_have_count(0)
    assert page.evaluate("window.__stayed") == "yes"
    assert page.url.endswith("/people/alice/tokens/")
    assert PersonalAccessToken.objects.authenticate(raw) is None


def test_a_bad_duration_is_explained_in_the_dialog(page):
    from playwright.sync_api import expect

    open_alices_tokens(page)
    page.get_by_role("button", name="Create a personal access token").click()
    dialog = page.get_by_role("dialog", name="Create a Personal Access Token")
    dialog.get_by_label("Label").fill("never born")
    dialog.get_by_label("Duration").fill("0")
    dialog.get_by_role("button", name="Generate").click()
    expect(dialog.get_by_role("alert")).to_contain_text("whole number greater than zero")
    expect(dialog.get_by_label("Duration")).to_have_attribute("aria-invalid", "true")
    dialog.get_by_label("Duration").fill("500")
    dialog.get_by_label("Unit").select_option(label="Days")
    dialog.get_by_role("button", name="Generate").click()
    expect(dialog.get_by_role("alert")).to_contain_text("at most 365 days")
    assert not PersonalAccessToken.objects.exists()


def test_bob_only_reaches_his_own_tokens(page):
    from playwright.sync_api import expect

    log_in(page, "bob")
    page.wait_for_url("**/me/tokens/")
    expect(page.get_by_role("heading", name="Personal Access Tokens", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="People")).to_have_count(0)
    response = page.goto("/people/")
    assert response is not None and response.status == 403
    response = page.goto("/people/alice/tokens/")
    assert response is not None and response.status == 403


def test_an_admin_releases_a_lock_that_an_application_left_behind(page, demo):
    from playwright.sync_api import expect

    from files.models import DavLock
    from tests.support.dav_support import DavClient, editor_lock

    _token, secret = demo.token(demo.alice)
    lock = editor_lock(DavClient("alice", secret), "/dav/common/projects/alpha/readme.txt")
    log_in(page, "admin")
    page.get_by_role("link", name="alice", exact=True).click()
    page.wait_for_url("**/people/alice/")
    page.get_by_role("link", name="WebDAV locks").click()
    page.wait_for_url("**/people/alice/locks/")
    row = page.get_by_role("row", name="/common/projects/alpha/readme.txt")
    expect(row).to_contain_text("LibreOffice on alice-laptop")
    settled(page)
    questions: list[str] = []

    def answer(dialog) -> None:
        questions.append(dialog.message)
        dialog.accept()

    page.once("dialog", answer)
    row.get_by_role("button", name="Release the lock on /common/projects/alpha/readme.txt").click()
    expect(page.get_by_role("status").filter(has_text="Released the lock")).to_be_visible()
    expect(page.get_by_text("No WebDAV locks")).to_be_visible()
    assert questions and "may lose its changes" in questions[0]
    assert page.url.endswith("/people/alice/locks/")  # released in place, htmx
    assert not DavLock.objects.filter(token=lock).exists()


def test_the_dialog_works_with_the_keyboard_only(page):
    from playwright.sync_api import expect

    open_alices_tokens(page)
    plus = page.get_by_role("button", name="Create a personal access token")
    plus.focus()
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="Create a Personal Access Token")
    expect(dialog.get_by_label("Label")).to_be_focused()

    # Focus stays inside the modal dialog however far one tabs: the page behind is inert. After the last
    # control the browser's own UI takes a turn (activeElement is then <body>), as with every native modal.
    for _ in range(25):
        page.keyboard.press("Tab")
        assert page.evaluate("!!document.activeElement.closest('dialog') || document.activeElement === document.body")
        assert not page.evaluate("document.activeElement.closest('main')")
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog")).to_have_count(0)
    expect(plus).to_be_focused()

    page.keyboard.press("Enter")
    expect(dialog.get_by_label("Label")).to_be_focused()
    page.keyboard.type("typed only")
    page.keyboard.press("Tab")  # Hard Limit radio
    page.keyboard.press("ArrowDown")  # Auto Refresh
    expect(dialog.get_by_label("Auto Refresh")).to_be_checked()
    page.keyboard.press("Tab")  # Duration
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.type("45")
    page.keyboard.press("Tab")  # Unit
    expect(dialog.get_by_label("Unit")).to_be_focused()
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Enter")  # submits the form from the Duration field
    token_field = page.get_by_label("Token", exact=True)
    expect(token_field).to_be_focused()
    token = PersonalAccessToken.objects.get(label="typed only")
    assert token.is_auto_refresh
    # The dialog is gone and Escape loses nothing: the secret stays until it is dismissed.
    expect(page.get_by_role("dialog")).to_have_count(0)
    page.keyboard.press("Escape")
    expect(token_field).to_be_visible()
    for _ in range(3):  # Copy, the command with the token, the dismissal
        page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="I have copied the token")).to_be_focused()
    page.keyboard.press("Enter")
    expect(token_field).to_have_count(0)
    expect(plus).to_be_focused()
    expect(page.get_by_role("row").filter(has_text="typed only")).to_have_count(1)


def test_rotate_in_the_tab_reveals_a_new_token_that_works_while_the_old_one_is_refused(page, demo):
    from playwright.sync_api import expect

    alpha = demo.node("/common/projects/alpha")
    old, old_raw = demo.token(demo.alice, label="rclone laptop", scopes=[f"node:{alpha.uuid}:r"])
    open_alices_tokens(page)
    page.evaluate("window.__stayed = 'yes'")

    # The row expands to its details without JavaScript of ours: a native disclosure.
    page.get_by_text("Details", exact=True).click()
    expect(page.get_by_text("No recorded uses yet.")).to_be_visible()

    page.get_by_role("button", name="Rotate rclone laptop").click()
    dialog = page.get_by_role("dialog", name="Rotate “rclone laptop”?")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Rotate token").click()

    token_field = page.get_by_label("Token", exact=True)
    expect(token_field).to_have_value(re.compile(r"^cpat_"))
    expect(token_field).to_be_focused()
    expect(page.get_by_role("region", name="Token “rclone laptop” rotated")).to_be_visible()
    expect(page.get_by_role("dialog")).to_have_count(0)
    expect(page.get_by_text("will not be shown again")).to_be_visible()
    raw = token_field.input_value()
    assert raw != old_raw
    assert PersonalAccessToken.objects.authenticate(old_raw) is None
    new = PersonalAccessToken.objects.authenticate(raw)
    assert new is not None and new.label == "rclone laptop" and new.scopes == old.scopes

    # The list behind refreshed: one row, now the new token's, where focus returns when the panel goes.
    rows = page.locator("tr.token-row")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(new.lookup_id)
    page.get_by_role("link", name="I have copied the token").click()
    expect(page.get_by_role("button", name="Rotate rclone laptop")).to_be_focused()
    assert page.evaluate("window.__stayed") == "yes"


def test_the_inventory_filters_and_bulk_deletes_with_confirmation_without_a_reload(page, demo):
    from playwright.sync_api import expect

    from tokens.audit import AuditEvent

    doomed = [demo.token(demo.alice, label="old report job"), demo.token(demo.bob, label="old backup")]
    _kept, kept_raw = demo.token(demo.alice, label="nightly sync")
    log_in(page, "admin")
    page.get_by_role("link", name="Tokens", exact=True).click()
    page.wait_for_url("**/tokens/")
    expect(page.get_by_role("link", name="Tokens", exact=True)).to_have_attribute("aria-current", "page")
    page.evaluate("window.__stayed = 'yes'")

    page.get_by_label("Owner").press_sequentially("bob")
    expect(page.locator("tr.token-row")).to_have_count(1)
    page.wait_for_url("**/tokens/?owner=bob**")
    page.get_by_label("Owner").fill("")
    expect(page.locator("tr.token-row")).to_have_count(3)
    page.get_by_label("Status").select_option(label="Never used")
    # The row count stays 3, so wait for the filtered list itself (its URL is pushed after the swap): a swap
    # arriving after the boxes below are ticked would untick them.
    page.wait_for_url("**status=never-used**")
    page.wait_for_load_state("networkidle")
    expect(page.locator("tr.token-row")).to_have_count(3)

    page.get_by_label("Select old report job of alice").check()
    page.get_by_label("Select old backup of bob").check()
    page.get_by_role("button", name="Delete selected…").click()
    dialog = page.get_by_role("dialog", name="Delete 2 tokens?")
    expect(dialog).to_contain_text("old report job")
    expect(dialog).to_contain_text("old backup")
    expect(dialog).not_to_contain_text("nightly sync")
    dialog.get_by_label("Reason").fill("cleanup")
    dialog.get_by_role("button", name="Delete 2 tokens").click()

    expect(page.get_by_role("dialog")).to_have_count(0)
    # Revoked, and still listed (never used, as the filter asks) until the retention removes them.
    for label in ("old report job", "old backup"):
        expect(page.locator("tr.token-row", has_text=label).locator(".status-revoked")).to_have_text("Revoked")
    expect(page.locator("tr.token-row", has_text="nightly sync").locator(".status-active")).to_have_text("Active")
    # The filter survived the refresh, and nothing reloaded the page.
    expect(page.get_by_label("Status")).to_have_value("never-used")
    assert page.evaluate("window.__stayed") == "yes"
    for _token, raw in doomed:
        assert PersonalAccessToken.objects.authenticate(raw) is None
    assert PersonalAccessToken.objects.authenticate(kept_raw) is not None
    reasons = AuditEvent.objects.filter(event=AuditEvent.DELETED).values_list("token_label", "reason")
    assert sorted(reasons) == [("old backup", "cleanup"), ("old report job", "cleanup")]


def test_copy_puts_the_new_token_on_the_clipboard(browser, live_server, demo):
    from playwright.sync_api import expect

    context = browser.new_context(
        base_url=live_server.url,
        viewport={"width": 1280, "height": 900},
        permissions=["clipboard-read", "clipboard-write"],
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        open_alices_tokens(page)
        page.get_by_role("button", name="Create a personal access token").click()
        dialog = page.get_by_role("dialog", name="Create a Personal Access Token")
        dialog.get_by_label("Label").fill("copied once")
        dialog.get_by_role("button", name="Generate").click()
        token_field = page.get_by_label("Token", exact=True)
        expect(token_field).to_have_value(re.compile(r"^cpat_"))
        copy = page.get_by_role("button", name="Copy the token", exact=True)
        copy.click()
        expect(page.get_by_role("button", name="Copied", exact=True)).to_be_visible()
        expect(page.get_by_text("Token copied to the clipboard.")).to_be_attached()
        copied = page.evaluate("navigator.clipboard.readText()")
        assert copied == token_field.input_value()
        assert PersonalAccessToken.objects.authenticate(copied).label == "copied once"
    finally:
        context.close()
