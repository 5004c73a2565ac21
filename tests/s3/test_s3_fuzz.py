"""Hypothesis over object keys and list parameters, through boto3 against a running server, with a token scoped
to one folder: never a 500, never an object outside the token's reach, read or changed."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError, ParamValidationError
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from tests.support.dav_support import live_server
from tests.support.s3_support import s3_client
from tests.support.tree_support import ALPHA, outside_alpha

pytestmark = [pytest.mark.system, pytest.mark.django_db(transaction=True)]

SCOPE_KEY = ALPHA.lstrip("/") + "/"
SEGMENTS = st.one_of(
    st.sampled_from(
        [
            "common",
            "research",
            "projects",
            "alpha",
            "beta",
            "welcome.txt",
            "paper.txt",
            "readme.txt",
            "..",
            ".",
            "",
            "%2f",
            "%2F..%2F",
            "a%2fb",
            "ü",
            "Grüße 😀",
            "\u202e",
            " ",
            "x" * 300,
        ]
    ),
    st.text(min_size=1, max_size=10),
)
KEYS = st.builds(
    lambda parts, slash: "/".join(parts) + ("/" if slash else ""),
    st.lists(SEGMENTS, min_size=1, max_size=6),
    st.booleans(),
)
OPERATIONS = st.sampled_from(["get", "head", "put", "delete"])


@pytest.fixture
def scoped_s3(demo):
    alpha = demo.node(ALPHA)
    _token, secret = demo.token(demo.alice, scopes=[f"node:{alpha.uuid}:rw"])
    with live_server() as base:
        yield s3_client(base, secret)


def _status(call):
    try:
        answer = call()
    except ClientError as error:
        return int(error.response["ResponseMetadata"]["HTTPStatusCode"]), error.response
    return int(answer["ResponseMetadata"]["HTTPStatusCode"]), answer


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(operation=OPERATIONS, key=KEYS)
@example(operation="put", key=SCOPE_KEY + "Grüße/../x.txt")
@example(operation="put", key=SCOPE_KEY + "new//x.txt")
@example(operation="put", key=SCOPE_KEY + "ü/%2f/" + "x" * 300)
@example(operation="get", key="common/projects/alpha/../beta/notes.md")
@example(operation="delete", key="common/welcome.txt")
def test_no_key_errors_or_reaches_outside_the_scope(scoped_s3, operation, key):
    before = outside_alpha()
    calls = {
        "get": lambda: scoped_s3.get_object(Bucket="io", Key=key),
        "head": lambda: scoped_s3.head_object(Bucket="io", Key=key),
        "put": lambda: scoped_s3.put_object(Bucket="io", Key=key, Body=b"" if key.endswith("/") else b"fuzz"),
        "delete": lambda: scoped_s3.delete_object(Bucket="io", Key=key),
    }
    try:
        status, answer = _status(calls[operation])
    except ParamValidationError:
        assume(False)  # boto3 refuses to send it
    assert status < 500, (operation, key, answer)
    assert outside_alpha() == before, (operation, key)
    if operation in ("get", "head") and status == 200:
        assert key.startswith(SCOPE_KEY) or SCOPE_KEY.startswith(key), key
    if operation == "get" and status == 200 and not key.endswith("/"):
        assert answer["Body"].read() is not None


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    prefix=st.one_of(KEYS, st.just(""), st.sampled_from(["common/", "common/projects/", SCOPE_KEY, "research/"])),
    start_after=st.one_of(st.just(""), KEYS),
    delimiter=st.sampled_from(["", "/", "a", "//"]),
    max_keys=st.integers(min_value=0, max_value=1200),
)
def test_no_listing_errors_or_shows_what_is_outside_the_scope(scoped_s3, prefix, start_after, delimiter, max_keys):
    arguments = {"Bucket": "io", "Prefix": prefix, "MaxKeys": max_keys, "StartAfter": start_after}
    if delimiter:
        arguments["Delimiter"] = delimiter
    try:
        status, answer = _status(lambda: scoped_s3.list_objects_v2(**arguments))
    except ParamValidationError:
        assume(False)
    assert status < 500, (arguments, answer)
    if status != 200:
        return
    keys = [item["Key"] for item in answer.get("Contents", [])]
    prefixes = [item["Prefix"] for item in answer.get("CommonPrefixes", [])]
    assert len(keys) + len(prefixes) <= max_keys
    assert all(key.startswith(SCOPE_KEY) for key in keys), keys
    assert all(p.startswith(SCOPE_KEY) or SCOPE_KEY.startswith(p) for p in prefixes), prefixes
    assert keys == sorted(keys)
    assert all(key > start_after for key in keys)
