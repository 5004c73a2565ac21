"""The one rule for active media types: what an upload keeps, what goes out, and the attachment's name."""

from __future__ import annotations

import re
from urllib.parse import unquote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from files import media_types

ACTIVE = [
    "text/html",
    "TEXT/HTML; charset=utf-8",
    "application/xhtml+xml",
    "image/svg+xml",
    "text/xml",
    "application/xml",
    "application/rss+xml",
    "text/javascript",
    "application/javascript",
    "application/x-javascript",
    "application/ecmascript",
    "text/jscript",
    "text/vbscript",
    "text/css",
    "text/xsl",
    "multipart/x-mixed-replace",
    "",
    "html",
    "text/html/x",
]
PASSIVE = ["text/plain", "image/png", "application/pdf", "application/json", "video/mp4", "application/zip"]


@pytest.mark.parametrize("media_type", ACTIVE)
def test_types_a_browser_would_run_are_active(media_type):
    assert media_types.is_active(media_type)


@pytest.mark.parametrize("media_type", PASSIVE)
def test_types_a_browser_only_shows_are_passive(media_type):
    assert not media_types.is_active(media_type)


@given(claimed=st.one_of(st.sampled_from(ACTIVE + PASSIVE), st.text(max_size=40)), name=st.text(max_size=40))
def test_an_upload_never_keeps_an_active_type(claimed, name):
    stored = media_types.stored_type(claimed, name)
    assert not media_types.is_active(stored)
    assert len(stored) <= 255


@given(stored=st.one_of(st.sampled_from(ACTIVE + PASSIVE), st.text(max_size=40)))
def test_what_goes_out_is_never_an_active_type(stored):
    assert not media_types.is_active(media_types.served_type(stored))


def test_octet_stream_claim_leaves_the_type_to_the_name():
    assert media_types.stored_type("application/octet-stream", "notes.txt") == "text/plain"


NAMES = st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=60)


@given(name=NAMES)
def test_attachment_states_the_exact_name_in_utf8(name):
    disposition = media_types.content_disposition(name)
    encoded = re.fullmatch(r"attachment; filename=\"[^\"]*\"; filename\*=UTF-8''([A-Za-z0-9%._~-]*)", disposition)
    assert encoded is not None, disposition
    assert unquote(encoded[1], errors="strict") == name


@given(name=NAMES)
def test_attachment_fallback_name_is_a_plain_quoted_string(name):
    fallback = re.fullmatch(r"attachment; filename=\"(.*)\"; filename\*=.*", media_types.content_disposition(name))
    assert fallback is not None
    assert re.fullmatch(r"[ !#-$&-\[\]-~]*", fallback[1])
    assert len(fallback[1]) == len(name)
