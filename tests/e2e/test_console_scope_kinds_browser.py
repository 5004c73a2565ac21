"""The create dialog's scope kinds in a real browser: Read only, a protocol, allowed addresses (with the message
for a bad one) and token management, then the row that shows them."""

from __future__ import annotations

import re

import pytest

from tests.support.browser import log_in, settled
from tokens.models import PersonalAccessToken

pytestmark = pytest.mark.system


def test_admin_creates_a_read_only_webdav_token_from_one_network_that_manages_tokens(page, demo):
    from playwright.sync_api import expect

    log_in(page, "admin")
    page.goto("/people/alice/tokens/")
    settled(page)
    page.get_by_role("button", name="Create a personal access token").click()
    dialog = page.get_by_role("dialog", name="Create a Personal Access Token")
    dialog.get_by_label("Label").fill("nightly mirror")
    dialog.get_by_label("Read only").check()
    dialog.get_by_label("WebDAV").check()
    addresses = dialog.get_by_label("Allowed addresses")
    addresses.fill("192.0.2.1/24")
    dialog.get_by_label("Its owner's tokens (tokens:self)").check()
    dialog.get_by_role("button", name="Generate").click()

    expect(dialog.get_by_role("alert")).to_contain_text("did you mean 192.0.2.0/24?")
    expect(dialog.get_by_label("Allowed addresses")).to_have_attribute("aria-invalid", "true")
    expect(dialog.get_by_label("Read only")).to_be_checked()
    expect(dialog.get_by_label("WebDAV")).to_be_checked()
    assert not PersonalAccessToken.objects.exists()

    dialog.get_by_label("Allowed addresses").fill("192.0.2.0/24")
    dialog.get_by_role("button", name="Generate").click()
    token_field = page.get_by_label("Token", exact=True)
    expect(token_field).to_have_value(re.compile(r"^cpat_"))
    token = PersonalAccessToken.objects.get()
    assert token.scopes == ["node:*:r", "protocol:webdav", "ip:192.0.2.0/24", "tokens:self"]

    page.get_by_role("link", name="I have copied the token").click()
    row = page.get_by_role("row").filter(has_text="nightly mirror")
    expect(row).to_contain_text("All files")
    expect(row).to_contain_text("only over WebDAV")
    expect(row).to_contain_text("only from 192.0.2.0/24")
    expect(row).to_contain_text("manages its owner's tokens")
