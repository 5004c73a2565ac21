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
