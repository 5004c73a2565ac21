"""Range requests (RFC 9110 §14) over the REST API and WebDAV alike: one range is 206 with exactly those bytes,
several or a malformed one the whole file, an unsatisfiable one 416 with ``Content-Range: bytes */<size>``."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from tests.support.download_support import PROTOCOLS, fetcher, stored_file

DIGITS = b"0123456789"


@pytest.fixture(params=PROTOCOLS)
def digits(request, demo):
    """A ten-byte file, fetched over each protocol in turn."""
    return fetcher(demo, request.param, stored_file(demo, "digits.bin", DIGITS))


def test_zero_byte_suffix_is_416(digits):
    response = digits(range="bytes=-0")
    assert (response.status, response.headers["content-range"]) == (416, "bytes */10")


def test_range_that_ends_before_it_starts_is_ignored(digits):
    response = digits(range="bytes=7-2")
    assert (response.status, response.body) == (200, DIGITS)
    assert "content-range" not in response.headers


def test_several_ranges_give_the_whole_file(digits):
    response = digits(range="bytes=0-1,4-5")
    assert (response.status, response.body) == (200, DIGITS)


def test_range_past_the_end_is_416(digits):
    response = digits(range="bytes=10-")
    assert (response.status, response.headers["content-range"]) == (416, "bytes */10")


def test_single_range_is_those_bytes(digits):
    response = digits(range="bytes=2-4")
    assert (response.status, response.body, response.headers["content-range"]) == (206, b"234", "bytes 2-4/10")


def test_range_list_with_empty_elements_is_one_range(digits):
    response = digits(range="bytes= , 2-4 ,")
    assert (response.status, response.body) == (206, b"234")


def test_if_range_with_the_modification_date_applies_the_range(digits):
    modified = digits().headers["last-modified"]
    response = digits(range="bytes=0-1", if_range=modified)
    assert (response.status, response.body) == (206, b"01")


def test_weak_if_range_gives_the_whole_file(digits):
    etag = digits().headers["etag"]
    response = digits(range="bytes=0-1", if_range=f"W/{etag}")
    assert (response.status, response.body) == (200, DIGITS)


def test_if_none_match_wins_over_an_unsatisfiable_range(digits):
    etag = digits().headers["etag"]
    assert digits(range="bytes=50-", if_none_match=etag).status == 304


def test_head_with_a_range_states_it_without_the_bytes(digits):
    response = digits("HEAD", range="bytes=-3")
    assert (response.status, response.body) == (206, b"")
    assert (response.headers["content-range"], response.headers["content-length"]) == ("bytes 7-9/10", "3")


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_any_range_of_an_empty_file_is_416(demo, protocol):
    fetch = fetcher(demo, protocol, stored_file(demo, "empty.bin", b""))
    response = fetch(range="bytes=0-")
    assert (response.status, response.headers["content-range"]) == (416, "bytes */0")
    assert fetch().status == 200


_SPEC = st.one_of(
    st.builds("{}-{}".format, st.integers(0, 25), st.integers(0, 25)),
    st.builds("{}-".format, st.integers(0, 25)),
    st.builds("-{}".format, st.integers(0, 25)),
    st.sampled_from(["-", "", " ", "0-0", "9" * 30 + "-", "-" + "9" * 30, "0-" + "9" * 30, "١-٢", "1-2-3"]),
)
RANGE_HEADERS = st.one_of(
    st.builds(
        lambda unit, specs: unit + "=" + ",".join(specs),
        st.sampled_from(["bytes", "BYTES", "items"]),
        st.lists(_SPEC, min_size=1, max_size=3),
    ),
    st.text(alphabet=st.characters(max_codepoint=255, exclude_characters="\r\n"), max_size=30),
)
_CONTENT_RANGE = re.compile(r"bytes ([0-9]+)-([0-9]+)/([0-9]+)")


def _expected(header: str) -> bytes | None:
    """What a well-formed one-range ``bytes=`` header asks of DIGITS (b"": nothing there); None for anything
    else."""
    unit, _equals, ranges = header.strip().partition("=")
    specs = [spec.strip(" \t") for spec in ranges.split(",") if spec.strip(" \t")]
    if unit.lower() != "bytes" or len(specs) != 1 or not re.fullmatch(r"[0-9]*-[0-9]*", specs[0]):
        return None
    first, last = specs[0].split("-")
    if not first:
        return (DIGITS[-int(last) :] if int(last) else b"") if last else None
    if last and int(last) < int(first):
        return None
    return DIGITS[int(first) : int(last) + 1] if last else DIGITS[int(first) :]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(header=RANGE_HEADERS)
def test_any_range_header_is_served_as_it_asks(digits, header):
    """Never a 500; a 206 states a valid Content-Range and carries exactly those bytes, which are what a
    one-range header asks; a 416 states the size; anything else is the whole file."""
    response = digits(range=header)
    event(f"status {response.status}")
    assert response.status in {200, 206, 416}, (header, response.status)
    if response.status == 206:
        match = _CONTENT_RANGE.fullmatch(response.headers["content-range"])
        assert match is not None, response.headers["content-range"]
        first, last, size = map(int, match.groups())
        assert first <= last < size == len(DIGITS)
        assert response.body == DIGITS[first : last + 1] == _expected(header)
        assert response.headers["content-length"] == str(last - first + 1)
    elif response.status == 416:
        assert response.headers["content-range"] == "bytes */10"
        assert _expected(header) == b"", header
    else:
        assert response.body == DIGITS
        assert _expected(header) is None, header
