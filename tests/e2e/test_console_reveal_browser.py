"""The one-time reveal in a real browser: Escape or a click outside cannot lose it, and without JavaScript a
reload never creates a second token."""

from __future__ import annotations

import re

import pytest

from tests.support.browser import log_in, settled
from tokens.models import PersonalAccessToken

pytestmark = pytest.mark.system


def test_escape_and_a_click_outside_keep_the_secret_until_it_is_dismissed(page, demo):
    from playwright.sync_api import expect

    log_in(page, "alice")
    page.wait_for_url("**/me/tokens/")
    settled(page)
    plus = page.get_by_role("button", name="Create a personal access token")
    plus.click()
    dialog = page.get_by_role("dialog", name="Create a Personal Access Token")
    dialog.get_by_label("Label").fill("kept on escape")
    dialog.get_by_role("button", name="Generate").click()
    token_field = page.get_by_label("Token", exact=True)
    expect(token_field).to_be_focused()
    raw = token_field.input_value()
    page.keyboard.press("Escape")
    page.mouse.click(5, 5)
    page.keyboard.press("Escape")
    expect(token_field).to_have_value(raw)
    # The example line shows the public part; the secret shows there only when asked for.
    example = page.get_by_text(re.compile(r"^curl -H"))
    expect(example.first).not_to_contain_text(raw)
    page.get_by_text("Show the command with the token").click()
    expect(page.get_by_text(f'curl -H "Authorization: Bearer {raw}"', exact=False)).to_be_visible()
    page.get_by_role("link", name="I have copied the token").click()
    expect(token_field).to_have_count(0)
    expect(plus).to_be_focused()
    assert PersonalAccessToken.objects.authenticate(raw).label == "kept on escape"


def test_without_javascript_a_reload_creates_no_second_token(browser, live_server, demo):
    from playwright.sync_api import expect

    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        log_in(page, "alice")
        page.goto("/me/tokens/new/")
        page.get_by_label("Label").fill("no script")
        page.get_by_label("Duration").fill("7")
        page.get_by_role("button", name="Generate").click()
        page.wait_for_url("**/me/tokens/")
        token_field = page.get_by_label("Token", exact=True)
        raw = token_field.input_value()
        assert PersonalAccessToken.objects.authenticate(raw).label == "no script"
        # Copy cannot work without the script: it does not show.
        expect(page.get_by_role("button", name="Copy the token")).to_have_count(0)
        page.reload()
        expect(token_field).to_have_count(0)
        page.go_back()
        page.go_forward()
        expect(page.get_by_label("Token", exact=True)).to_have_count(0)
        assert PersonalAccessToken.objects.filter(owner=demo.alice, label="no script").count() == 1
    finally:
        context.close()
