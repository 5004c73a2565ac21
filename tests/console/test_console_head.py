"""Every console page a GET shows answers HEAD too (link checkers and monitors send it), with its headers and no
body, rather than 405."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(
    "path",
    [
        "/people/",
        "/people/alice/",
        "/people/alice/tokens/",
        "/people/alice/tokens/inactive/",
        "/people/alice/locks/",
        "/tokens/",
        "/audit/",
        "/policy/",
        "/me/tokens/",
    ],
)
def test_head_answers_as_get_does_without_a_body(admin_client, demo, path):
    got = admin_client.get(path)
    head = admin_client.head(path)
    assert (head.status_code, head.content) == (got.status_code, b"") and got.status_code == 200
    assert head["Content-Type"] == got["Content-Type"]
