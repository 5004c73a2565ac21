"""HEAD on every REST GET endpoint is that GET without its body (RFC 9110 §9.3.2), never 405."""

from __future__ import annotations

import re
import uuid

import pytest
from django.test import Client

from api.api import api

_GET_PATHS = sorted(path for path, operations in api.get_openapi_schema()["paths"].items() if "get" in operations)


def _body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def _url(demo, path: str) -> str:
    """The document's path with values that name something alice reaches (an unknown parameter: a uuid that names
    nothing, which HEAD answers like GET all the same)."""
    readme = demo.node("/common/projects/alpha/readme.txt")
    node = demo.node("/common/projects/alpha") if path.endswith("/children") else readme
    url = re.sub(r"\{node_id\}", str(node.uuid), path)
    url = re.sub(r"\{[^}]+\}", str(uuid.uuid4()), url)
    return url + ("?path=/common/projects/alpha/readme.txt" if url.endswith("/nodes") else "")


@pytest.mark.parametrize("path", [*_GET_PATHS, "/api/v1/openapi.json", "/api/v1/docs"])
def test_head_is_the_get_without_its_body(demo, alice, path):
    client = Client()
    url = _url(demo, path)
    if path.startswith("/api/v1/tokens"):
        # The token endpoints, with a token that manages its owner's tokens, naming itself.
        token, raw = demo.token(demo.alice, scopes=["tokens:self"])
        alice = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
        url = path.replace("{token_id}", str(token.uuid))
    got = client.get(url, **alice)
    head = client.head(url, **alice)
    assert head.status_code == got.status_code == 200
    assert dict(head.headers) == dict(got.headers)
    assert head["Content-Length"] == str(len(_body(got)))
    assert _body(head) == b""


def test_head_without_credentials_is_401_like_get(demo, client):
    readme = demo.node("/common/projects/alpha/readme.txt")
    assert client.head(f"/api/v1/nodes/{readme.uuid}").status_code == 401
