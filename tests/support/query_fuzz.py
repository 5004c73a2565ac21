"""Hypothesis strategies for the query strings of list pages (tests/console/test_list_filter_fuzz.py).

A query string reaches a view as a WSGI server hands it over (PEP 3333): latin-1 decoded bytes, so any byte
sequence — UTF-8 or not, percent-encoded or not, with broken escapes — arrives as a str of code points 0-255.
"""

from __future__ import annotations

from urllib.parse import quote_from_bytes

from hypothesis import strategies as st

#: Values that broke or could break a parser: out-of-range dates, huge or odd numbers, NUL bytes, broken escapes.
AWKWARD = [
    "",
    "9999-12-31",
    "0001-01-01",
    "0000-01-01",
    "10000-01-01",
    "2026-02-30",
    "2026-13-01",
    "9999-12-31T23:59:59",
    "-1",
    "0",
    "1e9",
    "1e999",
    "1.5",
    "NaN",
    "inf",
    "last",
    "first",
    "9" * 30,
    "9" * 5000,
    "99999",
    "3650",
    "3651",
    "99999999999w",
    "3653d",
    "3654d",
    "1d1d",
    "%D9%A3",
    "\x00",
    "2026\x00-01-01",
    "%",
    "%ZZ",
    "%FF%FE",
    "%C3",
    "%00",
    "%ED%A0%80",
]

_raw = st.binary(max_size=40).map(lambda data: data.decode("latin-1"))
_escaped = st.binary(max_size=40).map(lambda data: quote_from_bytes(data, safe=""))
_text = st.text(max_size=40).map(lambda text: quote_from_bytes(text.encode("utf-8", "surrogatepass"), safe=""))
_awkward = st.sampled_from(AWKWARD)
# The awkward values twice over: a fuzzed page should meet them often, not once in a thousand pairs.
values = st.one_of(_awkward, _awkward, _raw, _escaped, _text)


def query_strings(parameters: list[str]) -> st.SearchStrategy[str]:
    """Query strings that name ``parameters`` (each possibly repeated) and unknown ones, with any values."""
    known = st.tuples(st.sampled_from([*parameters, "page"]), values)
    unknown = st.tuples(st.one_of(_raw, _escaped), values)
    pairs = st.lists(st.one_of(known, known, known, unknown), max_size=8)
    separator = st.sampled_from(["&", ";", "&&"])
    return st.tuples(pairs, separator).map(lambda item: item[1].join(f"{name}={value}" for name, value in item[0]))
