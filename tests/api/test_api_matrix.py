"""Every endpoint x every kind of caller → the status codes the API answers: 401 for an unknown token, 404 for
what is out of reach, 403 for a refused write.

The scoped tokens are alice's, scoped to /common/projects/alpha; "outside" is the rw-scoped token aimed at the
same operation on /common/projects/beta. "bob" is bob's unscoped token: his grant on common is read-only.
"""

from __future__ import annotations

from datetime import timedelta
from typing import NamedTuple

import pytest
import time_machine
from django.utils import timezone

from tests.support.api_helpers import bearer, call


class Target(NamedTuple):
    folder: str  # uuid of a folder
    file: str  # uuid of a file in it
    path: str  # public path of that file


class Endpoint(NamedTuple):
    method: str
    url: str  # formatted with a Target
    body: object = None


ENDPOINTS = {
    "me": Endpoint("GET", "/me"),
    "workspaces": Endpoint("GET", "/workspaces"),
    "node by path": Endpoint("GET", "/nodes?path={t.path}"),
    "stat": Endpoint("GET", "/nodes/{t.file}"),
    "list": Endpoint("GET", "/nodes/{t.folder}/children"),
    "mkdir": Endpoint("POST", "/nodes/{t.folder}/children", {"name": "new", "type": "folder"}),
    "upload": Endpoint("PUT", "/nodes/{t.folder}/children/new.txt", b"new bytes"),
    "download": Endpoint("GET", "/nodes/{t.file}/content"),
    "replace": Endpoint("PUT", "/nodes/{t.file}/content", b"other bytes"),
    "rename": Endpoint("PATCH", "/nodes/{t.file}", {"name": "renamed.txt"}),
    "delete": Endpoint("DELETE", "/nodes/{t.file}"),
}

CALLERS = ("unscoped", "r", "w", "rw", "outside", "bob")
EXPECTED = {
    #                unscoped   r     w    rw   outside  bob
    "me":           (200,     200,  200,  200,  200,    200),
    "workspaces":   (200,     200,  200,  200,  200,    200),
    "node by path": (200,     200,  200,  200,  404,    200),
    "stat":         (200,     200,  200,  200,  404,    200),
    "list":         (200,     200,  200,  200,  404,    200),
    "mkdir":        (201,     403,  201,  201,  404,    403),
    "upload":       (201,     403,  201,  201,  404,    403),
    "download":     (200,     200,  403,  200,  404,    200),
    "replace":      (200,     403,  200,  200,  404,    403),
    "rename":       (200,     403,  200,  200,  404,    403),
    "delete":       (204,     403,  204,  204,  404,    403),
}  # fmt: skip


def _target(demo, folder: str, file: str) -> Target:
    return Target(folder=str(demo.node(folder).uuid), file=str(demo.node(file).uuid), path=file)


def _token_for(demo, caller: str):
    alpha = demo.node("/common/projects/alpha").uuid
    if caller == "unscoped":
        return demo.token(demo.alice)[1]
    if caller == "bob":
        return demo.token(demo.bob)[1]
    perm = "rw" if caller == "outside" else caller
    return demo.token(demo.alice, scopes=[f"node:{alpha}:{perm}"])[1]


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_status_by_caller(demo, client, endpoint, caller):
    if caller == "outside":
        target = _target(demo, "/common/projects/beta", "/common/projects/beta/notes.md")
    else:
        target = _target(demo, "/common/projects/alpha", "/common/projects/alpha/readme.txt")
    spec = ENDPOINTS[endpoint]
    response = call(client, spec.method, spec.url.format(t=target), spec.body, bearer(_token_for(demo, caller)))
    assert response.status_code == EXPECTED[endpoint][CALLERS.index(caller)], response.content
    if response.status_code < 400:
        assert "Token-Expires-At" in response.headers
    else:
        assert "Token-Expires-At" not in response.headers
        assert set(response.json()) == {"detail"}


def _bad_credentials(demo, kind: str):
    if kind == "bad":
        return "cpat_this-is-not-a-real-token"
    if kind == "deleted":
        token, raw = demo.token(demo.alice)
        token.delete()
        return raw
    with time_machine.travel(timezone.now() - timedelta(days=2)):
        _token, raw = demo.token(demo.alice, expires_in=timedelta(days=1))
    return raw


@pytest.mark.parametrize("kind", ["none", "bad", "expired", "deleted"])
@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_no_valid_token_is_401(demo, client, endpoint, kind):
    target = _target(demo, "/common/projects/alpha", "/common/projects/alpha/readme.txt")
    headers = {} if kind == "none" else bearer(_bad_credentials(demo, kind))
    spec = ENDPOINTS[endpoint]
    response = call(client, spec.method, spec.url.format(t=target), spec.body, headers)
    assert response.status_code == 401
    assert set(response.json()) == {"detail"}
    if kind == "none":
        assert response["WWW-Authenticate"] == 'Bearer realm="cellsadmin"'
    else:
        assert response["WWW-Authenticate"] == 'Bearer realm="cellsadmin", error="invalid_token"'
    assert "Token-Expires-At" not in response.headers
    assert demo.node("/common/projects/alpha/readme.txt").name == "readme.txt"
