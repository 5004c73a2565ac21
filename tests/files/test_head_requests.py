"""A HEAD on a file, over the REST API and WebDAV, answers from the database: the status and headers its GET
would send (ranges and conditions included), and not one request to the object store that holds the bytes."""

from __future__ import annotations

import pytest

from tests.support.download_support import PROTOCOLS, fetcher, stored_file
from tests.support.object_store import operations_sent

DIGITS = b"0123456789"

# Each set of request headers, and the status its GET answers with.
_CASES = {
    "whole": ({}, 200),
    "range": ({"range": "bytes=2-5"}, 206),
    "suffix": ({"range": "bytes=-3"}, 206),
    "stale if-range": ({"range": "bytes=2-5", "if_range": '"another-version"'}, 200),
    "not modified": ({"if_none_match": "*"}, 304),
    "unsatisfiable": ({"range": "bytes=10-"}, 416),
}


@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize("case", list(_CASES))
def test_a_head_sends_nothing_to_the_object_store_and_the_gets_headers(s3_blobs, demo, protocol, case):
    headers, status = _CASES[case]
    fetch = fetcher(demo, protocol, stored_file(demo, "digits.bin", DIGITS))
    sent = operations_sent()
    head = fetch("HEAD", **headers)
    assert sent == []
    got = fetch("GET", **headers)
    assert head.status == got.status == status
    assert head.headers == got.headers
    if status in (200, 206):
        assert sent == ["GetObject"]  # the GET did ask the store: what is counted is what the store was sent
