"""REST listings page by keyset: ``limit`` and an opaque ``cursor``, the next page only in a ``Link`` header,
the same queries (with a LIMIT) on every page whatever the listing's size."""

from __future__ import annotations

import base64
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from files import services
from files.models import Node
from tests.support.api_helpers import API, bearer
from tests.support.content import fill_folder

NEXT = re.compile(r'^<([^>]+)>; rel="next"$')


def _next(response) -> str | None:
    """The URL of the next page (path and query), or None on the last page."""
    link = response.get("Link")
    if link is None:
        return None
    match = NEXT.match(link)
    assert match is not None, link
    return match.group(1)


def _following(response) -> str:
    """The next page's URL, which must be there."""
    url = _next(response)
    assert url is not None
    return url


def _walk(client, url: str, headers: dict[str, str]) -> list[list[str]]:
    """Every page's names, following the Link headers from ``url``."""
    pages: list[list[str]] = []
    next_url: str | None = url
    while next_url is not None:
        response = client.get(next_url, **headers)
        assert response.status_code == 200, response.content
        pages.append([item.get("name", item.get("slug")) for item in response.json()])
        next_url = _next(response)
    return pages


@pytest.fixture
def big(demo) -> Node:
    folder = services.create_folder(parent=demo.node("/common/projects"), name="big")
    fill_folder(folder, 250)
    return folder


def test_children_come_100_at_a_time_by_default(demo, client, alice, big):
    response = client.get(f"{API}/nodes/{big.uuid}/children", **alice)
    assert [node["name"] for node in response.json()] == [f"file-{index:04}.txt" for index in range(100)]
    assert _next(response) is not None


def test_following_the_links_lists_every_child_once_in_order(demo, client, alice, big):
    pages = _walk(client, f"{API}/nodes/{big.uuid}/children?limit=60", alice)
    assert [len(names) for names in pages] == [60, 60, 60, 60, 10]
    assert [name for names in pages for name in names] == [f"file-{index:04}.txt" for index in range(250)]


def test_the_last_page_has_no_link(demo, client, alice, big):
    response = client.get(f"{API}/nodes/{big.uuid}/children?limit=250", **alice)
    assert len(response.json()) == 250
    assert "Link" not in response


def test_next_link_keeps_the_other_parameters(demo, client, alice, big):
    response = client.get(f"{API}/nodes/{big.uuid}/children?limit=7&unknown=kept", **alice)
    url = urlsplit(_following(response))
    assert url.path == f"{API}/nodes/{big.uuid}/children"
    query = parse_qs(url.query)
    assert query["limit"] == ["7"]
    assert query["unknown"] == ["kept"]
    assert len(query["cursor"]) == 1


def test_a_child_added_before_the_cursor_shifts_nothing(demo, client, alice, big):
    first = client.get(f"{API}/nodes/{big.uuid}/children?limit=10", **alice)
    services.create_folder(parent=big, name="a-new-folder")  # sorts before every file-…
    second = client.get(_following(first), **alice)
    assert [node["name"] for node in second.json()] == [f"file-{index:04}.txt" for index in range(10, 20)]


def test_scoped_traverse_only_listing_pages_too(demo, client):
    projects = demo.node("/common/projects")
    fill_folder(projects, 30)
    alpha, beta = demo.node("/common/projects/alpha"), demo.node("/common/projects/beta")
    headers = bearer(demo.token(demo.alice, scopes=[f"node:{alpha.uuid}:r", f"node:{beta.uuid}:r"])[1])
    assert _walk(client, f"{API}/nodes/{projects.uuid}/children?limit=1", headers) == [["alpha"], ["beta"]]


def test_workspaces_page_by_slug(demo, client, alice):
    pages = _walk(client, f"{API}/workspaces?limit=1", alice)
    assert pages == [["common"], ["research"]]


@pytest.mark.parametrize("limit", ["0", "-1", "1001", "many", ""])
def test_limit_outside_1_to_1000_is_a_422_with_a_message(demo, client, alice, big, limit):
    for url in (f"{API}/nodes/{big.uuid}/children", f"{API}/workspaces"):
        response = client.get(f"{url}?limit={limit}", **alice)
        assert response.status_code == 422
        [error] = response.json()["detail"]
        assert error["loc"] == ["query", "limit"]
        assert error["msg"]


def test_limit_1000_is_allowed(demo, client, alice, big):
    fill_folder(services.create_folder(parent=big, name="more"), 1001)
    more = Node.objects.get(parent=big, name="more")
    response = client.get(f"{API}/nodes/{more.uuid}/children?limit=1000", **alice)
    assert len(response.json()) == 1000
    assert _next(response) is not None


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage!",
        "%%%",
        _b64(b"\xff\xfe"),
        _b64(b"not json"),
        _b64(b'{"name": "x"}'),
        _b64(b'["only-a-name"]'),
        _b64(b'["file-0001.txt", "not-a-uuid"]'),
        _b64(b'["file-0001.txt", 5]'),
        _b64(b'["nul\\u0000", "6f1ed002-ab5d-42de-9a5b-ca7a5c4b7e12"]'),
        "x" * 5000,
    ],
)
def test_a_garbage_cursor_is_a_422(demo, client, alice, big, cursor):
    response = client.get(f"{API}/nodes/{big.uuid}/children", {"cursor": cursor}, **alice)
    assert response.status_code == 422, response.content
    [error] = response.json()["detail"]
    assert error["loc"] == ["query", "cursor"]


def test_a_children_cursor_is_no_workspaces_cursor(demo, client, alice, big):
    first = client.get(f"{API}/nodes/{big.uuid}/children?limit=1", **alice)
    cursor = parse_qs(urlsplit(_following(first)).query)["cursor"][0]
    assert client.get(f"{API}/workspaces", {"cursor": cursor}, **alice).status_code == 422


@given(cursor=st.text(max_size=200) | st.binary(max_size=200).map(_b64))
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_cursor_is_a_500(demo, client, alice, big, cursor):
    for url in (f"{API}/nodes/{big.uuid}/children", f"{API}/workspaces"):
        response = client.get(url, {"cursor": cursor}, **alice)
        assert response.status_code in (200, 422), (cursor, response.content)


def _queries(client, url: str, headers: dict[str, str]) -> tuple[list[str], object]:
    with CaptureQueriesContext(connection) as context:
        response = client.get(url, **headers)
    assert response.status_code == 200, response.content
    return [query["sql"] for query in context.captured_queries], response


def test_every_page_of_any_folder_costs_the_same_queries_with_a_limit(demo, client, alice):
    small = services.create_folder(parent=demo.node("/common/projects"), name="small")
    large = services.create_folder(parent=demo.node("/common/projects"), name="large")
    fill_folder(small, 20)
    fill_folder(large, 3000)
    client.get(f"{API}/me", **alice)  # the first use writes last-used details; measure the steady state

    first_small, _ = _queries(client, f"{API}/nodes/{small.uuid}/children?limit=10", alice)
    first_large, response = _queries(client, f"{API}/nodes/{large.uuid}/children?limit=10", alice)
    deep_large, _ = _queries(client, _following(response), alice)
    for _page in range(25):  # far into the folder: still one query for the page
        response = client.get(_following(response), **alice)
    far_large, _ = _queries(client, _following(response), alice)
    assert len(first_small) == len(first_large) == len(deep_large) == len(far_large) <= 5
    listing = [sql for sql in far_large if "LIMIT 11" in sql]
    assert len(listing) == 1
    assert "OFFSET" not in listing[0]
    # The page starts at the cursor in the (parent, name) index, not at the folder's first child.
    assert '"name" >= ' in listing[0]


def test_workspaces_cost_the_same_queries_with_a_limit(demo, client, alice):
    client.get(f"{API}/me", **alice)
    first, response = _queries(client, f"{API}/workspaces?limit=1", alice)
    second, _ = _queries(client, _following(response), alice)
    assert len(first) == len(second) <= 4
    assert any("LIMIT 2" in sql for sql in second)


def test_openapi_documents_the_paging_parameters_and_the_link_header(client):
    document = client.get(f"{API}/openapi.json").json()
    for path in ("/api/v1/workspaces", "/api/v1/nodes/{node_id}/children"):
        operation = document["paths"][path]["get"]
        parameters = {parameter["name"]: parameter for parameter in operation["parameters"]}
        assert parameters["limit"]["schema"]["maximum"] == 1000
        assert parameters["limit"]["schema"]["minimum"] == 1
        assert parameters["limit"]["schema"]["default"] == 100
        assert "cursor" in parameters
        assert "Link" in operation["responses"]["200"]["headers"]
        assert "422" in operation["responses"]
