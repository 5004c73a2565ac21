"""The REST API costs a constant number of queries: independent of a folder's size and of a node's depth."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from files import services
from files.models import Node
from tests.support.api_helpers import API, bearer
from tests.support.content import fill_folder


def _queries(client, url: str, headers: dict[str, str]) -> tuple[int, Any]:
    with CaptureQueriesContext(connection) as context:
        response = client.get(url, **headers)
    assert response.status_code == 200, response.content
    return len(context.captured_queries), response


def _deep(parent: Node, depth: int) -> Node:
    for level in range(depth):
        parent = services.create_folder(parent=parent, name=f"level-{level}")
    return parent


@pytest.mark.parametrize("scope", [None, "/common/projects"], ids=["unscoped", "scoped"])
def test_listing_costs_the_same_for_10_and_1000_children(demo, client, scope):
    small = services.create_folder(parent=demo.node("/common/projects"), name="small")
    large = services.create_folder(parent=demo.node("/common/projects"), name="large")
    fill_folder(small, 10)
    fill_folder(large, 1000)
    scopes = [f"node:{demo.node(scope).uuid}:r"] if scope else []
    headers = bearer(demo.token(demo.alice, scopes=scopes)[1])
    client.get(f"{API}/me", **headers)  # the first use writes last-used details; measure the steady state

    few, _response = _queries(client, f"{API}/nodes/{small.uuid}/children?limit=1000", headers)
    many, response = _queries(client, f"{API}/nodes/{large.uuid}/children?limit=1000", headers)
    assert len(response.json()) == 1000
    assert many == few
    assert many <= 5  # token, grants, (scoped nodes), the folder, its children


def test_traverse_only_listing_is_constant_too(demo, client):
    projects = demo.node("/common/projects")
    fill_folder(projects, 1000)
    alpha = demo.node("/common/projects/alpha")
    headers = bearer(demo.token(demo.alice, scopes=[f"node:{alpha.uuid}:r"])[1])
    client.get(f"{API}/me", **headers)
    count, response = _queries(client, f"{API}/nodes/{projects.uuid}/children", headers)
    assert [node["name"] for node in response.json()] == ["alpha"]
    assert count <= 5


@pytest.mark.parametrize("scoped", [False, True], ids=["unscoped", "scoped"])
def test_stat_costs_the_same_at_depth_2_and_40(demo, client, scoped):
    shallow = _deep(demo.node("/common/projects"), 2)
    deep = _deep(demo.node("/common/projects/beta"), 40)
    scopes = [f"node:{demo.node('/common/projects').uuid}:rw"] if scoped else []
    headers = bearer(demo.token(demo.alice, scopes=scopes)[1])
    client.get(f"{API}/me", **headers)

    near, _response = _queries(client, f"{API}/nodes/{shallow.uuid}", headers)
    far, response = _queries(client, f"{API}/nodes/{deep.uuid}", headers)
    assert response.json()["path"].count("/") == 43
    assert far == near <= 4
    by_path, _response = _queries(client, f"{API}/nodes?path={deep.public_path}", headers)
    assert by_path == near - 1  # the path lookup brings the grant along: no grants query of its own
