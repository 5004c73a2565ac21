"""Hypothesis over API path parameters and bodies with a scoped token: never a 500, never a change or a read
outside the token's reach."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from files.models import Node
from tests.support.tree_support import ALPHA, outside_alpha

NAMES = st.one_of(
    st.sampled_from(["..", ".", "", "a/b", "x" * 300, "\x00", "ü", "new.txt", "data.csv", "readme.txt", " pad "]),
    st.text(max_size=20),
)
PATHS = st.lists(
    st.sampled_from(
        ["common", "research", "projects", "alpha", "beta", "..", "%2e%2e", "\x00", "ü", "welcome.txt", "paper.txt"]
    ),
    max_size=5,
).map(lambda parts: "/" + "/".join(parts))


@pytest.fixture
def scoped(demo):
    alpha = demo.node(ALPHA)
    _token, raw = demo.token(demo.alice, scopes=[f"node:{alpha.uuid}:rw"])
    ids = {str(node.uuid) for node in Node.objects.all()} | {"00000000-0000-4000-8000-000000000000", "not-a-uuid"}
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}", raise_request_exception=False), sorted(ids)


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_no_call_errors_or_reaches_outside_the_scope(scoped, data):
    client, ids = scoped
    node = data.draw(st.sampled_from(ids))
    other = data.draw(st.sampled_from(ids))
    name = data.draw(NAMES)
    before = outside_alpha()
    call = data.draw(
        st.sampled_from(["stat", "path", "children", "mkdir", "put", "content", "replace", "patch", "delete"])
    )
    api = "/api/v1"
    if call == "stat":
        response = client.get(f"{api}/nodes/{node}")
    elif call == "path":
        response = client.get(f"{api}/nodes", {"path": data.draw(PATHS)})
    elif call == "children":
        response = client.get(f"{api}/nodes/{node}/children")
    elif call == "mkdir":
        response = client.post(
            f"{api}/nodes/{node}/children",
            json.dumps({"name": name, "type": "folder"}),
            content_type="application/json",
        )
    elif call == "put":
        response = client.put(f"{api}/nodes/{node}/children/{name}", b"fuzz", content_type="application/octet-stream")
    elif call == "content":
        response = client.get(f"{api}/nodes/{node}/content")
    elif call == "replace":
        response = client.put(f"{api}/nodes/{node}/content", b"fuzz", content_type="application/octet-stream")
    elif call == "patch":
        body = data.draw(st.fixed_dictionaries({}, optional={"name": NAMES, "parent": st.sampled_from(ids)}))
        response = client.patch(f"{api}/nodes/{node}", json.dumps(body), content_type="application/json")
    else:
        response = client.delete(f"{api}/nodes/{node}")
    assert response.status_code < 500, (call, node, other, name, response.status_code, response.content[:300])
    assert outside_alpha() == before, (call, node, name)
    if call in {"stat", "content", "children"} and response.status_code == 200:
        target = Node.objects.select_related("workspace").filter(uuid=node).first()
        assert target is not None
        assert target.public_path.startswith(ALPHA) or (call != "content" and ALPHA.startswith(target.public_path))
