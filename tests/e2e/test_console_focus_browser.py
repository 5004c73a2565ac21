"""Where focus, the page title and announcements go as a keyboard or screen reader user moves through the
console."""

from __future__ import annotations

import pytest

from tests.support.browser import log_in, settled

pytestmark = pytest.mark.system


def test_a_tab_switch_moves_focus_to_its_heading_sets_the_title_and_is_announced(page, demo):
    from playwright.sync_api import expect

    log_in(page, "admin")
    page.goto("/people/alice/")
    settled(page)
    page.get_by_role("link", name="Personal Access Tokens").click()
    heading = page.get_by_role("heading", name="Personal Access Tokens", exact=True)
    expect(heading).to_be_focused()
    expect(page).to_have_title("Personal Access Tokens · alice · cellsadmin")
    expect(page.locator("#announcer")).to_have_text("Personal Access Tokens tab")
    # The next Tab goes on inside the new panel, not at the bottom of the page.
    page.keyboard.press("Tab")
    assert page.evaluate("!!document.activeElement.closest('section.panel')")

    page.get_by_role("link", name="WebDAV locks").click()
    expect(page.get_by_role("heading", name="WebDAV locks", exact=True)).to_be_focused()
    expect(page).to_have_title("WebDAV locks · alice · cellsadmin")
    expect(page.locator("#announcer")).to_have_text("WebDAV locks tab")

    page.get_by_role("link", name="Profile").click()
    expect(page.get_by_role("heading", name="Profile", exact=True)).to_be_focused()
    expect(page).to_have_title("Profile · alice · cellsadmin")


def test_filtered_counts_are_read_out_by_the_one_live_region_that_is_never_swapped(page, demo):
    from playwright.sync_api import expect

    log_in(page, "admin")
    announcer = page.locator("#announcer")
    announcer.evaluate("node => { window.__announcer = node; }")
    page.get_by_label("Search people").press_sequentially("bo")
    expect(announcer).to_have_text("1 match for “bo”")
    assert page.evaluate("window.__announcer === document.getElementById('announcer')")
    assert page.locator("[aria-live]").count() == 1


def test_the_dialogs_expiry_preview_is_the_created_tokens_expiry(page, demo):
    import re
    import zoneinfo
    from datetime import datetime

    from playwright.sync_api import expect

    from tokens.models import PersonalAccessToken

    demo.alice.time_zone = "Europe/Paris"
    demo.alice.save()
    log_in(page, "alice")
    page.wait_for_url("**/me/tokens/")
    settled(page)
    page.get_by_role("button", name="Create a personal access token").click()
    dialog = page.get_by_role("dialog", name="Create a Personal Access Token")
    dialog.get_by_label("Label").fill("seven days")
    dialog.get_by_role("button", name="7 days").click()
    preview = dialog.locator("#id_expiry_preview")
    expect(preview).to_contain_text("This token will expire on")
    shown = re.search(r"(\d{4}-\d\d-\d\d \d\d:\d\d) (CES?T)", preview.inner_text())
    assert shown, preview.inner_text()
    dialog.get_by_role("button", name="Generate").click()
    expect(page.get_by_label("Token", exact=True)).to_be_focused()
    token = PersonalAccessToken.objects.get(label="seven days")
    local = token.expires_at.astimezone(zoneinfo.ZoneInfo("Europe/Paris"))
    typed = datetime.strptime(shown[1], "%Y-%m-%d %H:%M").replace(tzinfo=local.tzinfo)
    # The same minute, or the next one when a minute turned between reading and generating.
    assert 0 <= (local.replace(second=0, microsecond=0) - typed).total_seconds() <= 60
    assert shown[2] == local.strftime("%Z")
