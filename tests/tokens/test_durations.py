from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tokens.durations import LONGEST, DurationError, describe_duration, format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("20d", timedelta(days=20)),
        ("1d12h", timedelta(days=1, hours=12)),
        ("90s", timedelta(seconds=90)),
        ("2w", timedelta(weeks=2)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        ("  5m ", timedelta(minutes=5)),
    ],
)
def test_parses_units_and_compounds(text, expected):
    assert parse_duration(text) == expected


def test_bare_number_is_seconds_only_when_allowed():
    assert parse_duration("3600", bare_seconds=True) == timedelta(hours=1)
    with pytest.raises(DurationError, match="add a unit"):
        parse_duration("3600")


@pytest.mark.parametrize(
    "text", ["", "0s", "0d0h", "-5m", "5", "5x", "d", "1.5h", "1d1d", "５m", "99999999999w", "1 d"]
)
def test_rejects_bad_durations(text):
    with pytest.raises(DurationError):
        parse_duration(text)


@given(st.text())
def test_parser_raises_only_its_own_error(text):
    try:
        result = parse_duration(text, bare_seconds=True)
    except DurationError:
        return
    assert timedelta(0) < result <= LONGEST


@given(st.integers(min_value=1, max_value=int(LONGEST.total_seconds())))
def test_canonical_form_round_trips(seconds):
    value = timedelta(seconds=seconds)
    assert parse_duration(format_duration(value)) == value


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("365d", "365 days"),
        ("90d", "90 days"),
        ("1w", "1 week"),
        ("1d12h", "1 day 12 hours"),
        (" 30m ", "30 minutes"),
        (timedelta(hours=36), "1 day 12 hours"),
        (timedelta(days=30), "30 days"),
        (timedelta(seconds=1), "1 second"),
        (timedelta(0), "0 seconds"),
        ("nonsense", "nonsense"),
    ],
)
def test_durations_in_words_for_sentences(value, words):
    assert describe_duration(value) == words
