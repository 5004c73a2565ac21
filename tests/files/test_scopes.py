from __future__ import annotations

import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from files.scopes import Scope, ScopeError, parse_node_scope

NODE = uuid.UUID("5c3e1f0a-9d2b-4c1e-8f00-0123456789ab")


@pytest.mark.parametrize(
    ("text", "read", "write"),
    [
        (f"node:{NODE}:r", True, False),
        (f"node:{NODE}:w", False, True),
        (f"node:{NODE}:rw", True, True),
        (f"node:{NODE}:wr", True, True),
        (f"node:{str(NODE).upper()}:r", True, False),
    ],
)
def test_parses_permissions(text, read, write):
    assert parse_node_scope(text) == Scope(NODE, read, write)


@pytest.mark.parametrize(("perm", "read", "write"), [("r", True, False), ("w", False, True), ("wr", True, True)])
def test_every_node_is_a_star(perm, read, write):
    scope = parse_node_scope(f"node:*:{perm}")
    assert scope == Scope(None, read, write) and scope.everywhere
    assert str(scope) == f"node:*:{scope.perm}"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "node:",
        f"node:{NODE}",
        f"node:{NODE}:",
        f"node:{NODE}:x",
        f"node:{NODE}:rr",
        "node:nope:r",
        f"file:{NODE}:r",
        f"node:{NODE}:rwx",
        "node:*:",
        "node:**:r",
        "node:*",
    ],
)
def test_rejects_malformed_scopes(text):
    with pytest.raises(ScopeError):
        parse_node_scope(text)


@given(st.text())
def test_parser_raises_only_its_own_error(text):
    try:
        parse_node_scope(text)
    except ScopeError:
        pass


@given(st.uuids(), st.sampled_from(["r", "w", "rw", "wr"]))
def test_canonical_form_round_trips(node, perm):
    scope = parse_node_scope(f"node:{node}:{perm}")
    assert parse_node_scope(str(scope)) == scope
    assert str(scope) == f"node:{node}:{'r' if 'r' in perm else ''}{'w' if 'w' in perm else ''}"
