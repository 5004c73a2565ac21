"""Paged lists in a real browser (Playwright driving Debian's chromium): People's page links, the scope picker's
"Show more" and search, the inactive tokens and a row's details loaded on demand."""

from __future__ import annotations

import pytest

from tests.support.browser import log_in, settled
from tests.support.content import fill_folder
from tests.support.paging_support import add_tokens, add_users

pytestmark = pytest.mark.system


def test_people_pages_through_first_next_last_in_place(page, demo):
    from playwright.sync_api import expect

    add_users(60)  # 63 people, 3 pages
    log_in(page, "admin")
    page.evaluate("window.__stayed = 'yes'")
    expect(page.get_by_text("Page 1 of 3")).to_be_visible()
    page.get_by_role("link", name="Last", exact=True).click()
    expect(page.get_by_text("Page 3 of 3")).to_be_visible()
    expect(page.get_by_role("link", name="user0059", exact=True)).to_be_visible()
    page.wait_for_url("**/people/?page=3")
    settled(page)
    page.get_by_role("link", name="Previous", exact=True).click()
    expect(page.get_by_text("Page 2 of 3")).to_be_visible()
    settled(page)
    page.get_by_role("link", name="First", exact=True).click()
    expect(page.get_by_text("Page 1 of 3")).to_be_visible()
    assert page.evaluate("window.__stayed") == "yes"
    # Search as you type still narrows the list, paged too.
    page.get_by_label("Search people").press_sequentially("user00")
    expect(page.locator(".result-count")).to_have_text("60 matches for “user00”")
    expect(page.get_by_text("Page 1 of 3")).to_be_visible()


def test_the_picker_shows_more_children_and_searches_a_big_folder(page, demo):
    from playwright.sync_api import expect

    fill_folder(demo.node("/common/projects"), 300)
    log_in(page, "alice")
    page.wait_for_url("**/me/tokens/")
    settled(page)
    page.get_by_role("button", name="Create a personal access token").click()
    dialog = page.get_by_role("dialog", name="Create a Personal Access Token")
    dialog.get_by_text("Common Files", exact=True).click()
    dialog.get_by_text("projects", exact=True).click()
    expect(dialog.get_by_label("Access to /common/projects/file-0097.txt")).to_be_attached()
    expect(dialog.get_by_label("Access to /common/projects/file-0098.txt")).to_have_count(0)
    settled(page)
    # With the keyboard: focus "Show more", press Enter; focus moves on to the first new child.
    dialog.get_by_role("link", name="Show more in /common/projects").focus()
    page.keyboard.press("Enter")
    expect(dialog.get_by_label("Access to /common/projects/file-0197.txt")).to_be_attached()
    expect(dialog.get_by_label("Access to /common/projects/file-0098.txt")).to_be_focused()
    for last in ("file-0297.txt", "file-0299.txt"):
        settled(page)
        dialog.get_by_role("link", name="Show more in /common/projects").click()
        expect(dialog.get_by_label(f"Access to /common/projects/{last}")).to_be_attached()
    expect(dialog.get_by_role("link", name="Show more in /common/projects")).to_have_count(0)
    expect(dialog.get_by_label("Access to /common/projects/file-0298.txt")).to_be_focused()
    # The search box narrows the folder to names containing the text; Enter does not submit the form.
    search = dialog.get_by_label("Search in /common/projects")
    search.fill("FILE-025")
    expect(dialog.locator("#scope-results-" + str(demo.node("/common/projects").uuid) + " > li")).to_have_count(10)
    search.press("Enter")
    expect(dialog.get_by_label("Access to /common/projects/file-0257.txt")).to_be_attached()
    expect(dialog).to_be_visible()
    dialog.get_by_label("Access to /common/projects/file-0257.txt").select_option(label="r (read)")
    dialog.get_by_label("Label").fill("one file")
    dialog.get_by_label("Duration").fill("2")
    dialog.get_by_role("button", name="Generate").click()
    expect(page.get_by_label("Token", exact=True)).to_be_visible()


def test_inactive_tokens_and_details_load_on_demand(page, demo):
    from playwright.sync_api import expect

    add_tokens(demo.alice, 30, expired=True, label="old")
    token, _raw = demo.token(demo.alice, label="live one")
    log_in(page, "alice")
    page.wait_for_url("**/me/tokens/")
    settled(page)
    page.evaluate("window.__stayed = 'yes'")
    expect(page.locator("tr.token-row").filter(has_text="old 0000")).to_have_count(0)
    page.get_by_role("link", name="Show inactive tokens").click()
    inactive = page.locator("#inactive-list")
    expect(inactive.locator("tr.token-row").filter(has_text="old 0000")).to_have_count(1)
    expect(inactive.get_by_text("Page 1 of 2")).to_be_visible()
    settled(page)
    inactive.get_by_role("link", name="Next", exact=True).click()
    expect(inactive.locator("tr.token-row").filter(has_text="old 0029")).to_have_count(1)
    expect(inactive.get_by_role("button", name="Delete old 0029")).to_be_visible()
    # A row's details load as the disclosure opens.
    page.get_by_role("group").filter(has_text="Details").first.locator("summary").click()
    expect(page.locator(f"#token-{token.uuid} + tr").get_by_text("Never used")).to_be_visible()
    assert page.evaluate("window.__stayed") == "yes"
