from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from tokens import format as token_format


def test_generated_token_has_prefix_fixed_length_and_parses():
    raw, parts = token_format.generate()
    assert re.fullmatch(r"cpat_[0-9A-Za-z]{50}", raw)
    assert token_format.parse(raw) == parts


def test_secret_carries_at_least_160_bits():
    import math

    assert token_format.SECRET_LENGTH * math.log2(62) >= 160


def test_any_single_character_change_is_refused():
    raw, _ = token_format.generate()
    for index in range(len(token_format.PREFIX), len(raw)):
        for replacement in "0aZ":
            if raw[index] != replacement:
                assert token_format.parse(raw[:index] + replacement + raw[index + 1 :]) is None


@given(st.text())
def test_parse_never_raises(text):
    assert token_format.parse(text) is None or text.startswith("cpat_")


def test_truncated_and_extended_tokens_are_refused():
    raw, _ = token_format.generate()
    assert token_format.parse(raw[:-1]) is None
    assert token_format.parse(raw + "0") is None
