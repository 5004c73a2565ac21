"""A property over random trees full of case twins (``a`` / ``A``), Unicode normalisation twins (``café``
composed and decomposed) and names holding SQL and GLOB wildcards: whatever a scoped token asks of WebDAV or
the REST API, nothing outside its scope is read, changed or deleted, and no node changes that the request did
not name (the whole workspace is compared before and after)."""

from __future__ import annotations

from urllib.parse import quote

from django.db import transaction
from django.test import Client, TestCase
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from files import paths
from tests.support.api_helpers import bearer, call
from tests.support.dav_support import DavClient
from tests.support.tree_support import build, snapshot, within

BASE = ["a", "b*%", "caf\u00e9"]
TWIN = {"a": "A", "b*%": "B*%", "caf\u00e9": "cafe\u0301"}
NAMES = BASE + list(TWIN.values())
TOP = "/t"  # the tree is built below /common/t


@st.composite
def tree_paths(draw: st.DrawFn) -> list[str]:
    """Folder paths below TOP, each beside a twin: the same path with one name in another case or form."""
    base = draw(st.lists(st.lists(st.sampled_from(BASE), min_size=1, max_size=3), min_size=1, max_size=3))
    paths = []
    for names in base:
        twinned = draw(st.integers(0, len(names) - 1))
        paths.append("/".join(names))
        paths.append("/".join(TWIN[name] if index == twinned else name for index, name in enumerate(names)))
    return paths


class Rollback(Exception):
    pass


def _dav(path: str) -> str:
    """The request path as a server hands it to the application (decoded); a Destination is a URL (quoted)."""
    return f"/dav/common{path}"


def _request(dav: DavClient, client: Client, secret: str, method: str, source: str, target: str):
    if method == "GET":
        return dav.request("GET", _dav(source)).status
    if method == "PROPFIND":
        return dav.propfind(_dav(source)).status
    if method == "DELETE":
        return dav.request("DELETE", _dav(source)).status
    if method == "MKCOL":
        return dav.request("MKCOL", _dav(target)).status
    if method == "PUT":
        return dav.put(_dav(target), b"new").status
    if method in {"MOVE", "COPY"}:
        return dav.request(method, _dav(source), destination=quote(_dav(target))).status
    node = paths.resolve_path(f"/common{source}")
    if node is None:
        return 404
    if method == "REST DELETE":
        return call(client, "DELETE", f"/nodes/{node.uuid}", headers=bearer(secret)).status_code
    parent = paths.resolve_path(f"/common{target.rsplit('/', 1)[0]}")
    body = {"name": target.rsplit("/", 1)[1], "parent": str(parent.uuid if parent else node.uuid)}
    return call(client, "PATCH", f"/nodes/{node.uuid}", body, bearer(secret)).status_code


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    tree=tree_paths(),
    data=st.data(),
    method=st.sampled_from(["GET", "PROPFIND", "DELETE", "MKCOL", "PUT", "MOVE", "COPY", "REST DELETE", "PATCH"]),
)
def test_a_scoped_token_touches_nothing_outside_its_scope_or_what_it_named(demo, tree, data, method):
    folders = [f"{TOP}/{path}" for path in tree]
    scope = data.draw(st.sampled_from(folders), label="scope")
    inside = [folder for folder in folders if within(folder, scope)]
    # Mostly inside the scope, where requests succeed and a wrong prefix match would do its damage.
    parent = data.draw(st.sampled_from(inside) | st.sampled_from(folders), label="target parent")
    target = parent + "/" + data.draw(st.sampled_from(NAMES), label="target name")
    try:
        with transaction.atomic():
            files = [
                f"/{path}" for path in build(paths.resolve_path("/common"), [p[1:] for p in folders], numbered=True)
            ]
            candidates = folders + files
            source = data.draw(
                st.sampled_from([path for path in candidates if within(path, scope)]) | st.sampled_from(candidates),
                label="source",
            )
            scoped = paths.resolve_path(f"/common{scope}")
            _token, secret = demo.token(demo.alice, scopes=[f"node:{scoped.uuid}:rw"])
            before = snapshot(demo.common.pk)
            with TestCase.captureOnCommitCallbacks(execute=True):
                status = _request(DavClient("alice", secret), Client(), secret, method, source, target)
            after = snapshot(demo.common.pk)
            _check(method, status, before, after, scope=scope, source=source, target=target)
            raise Rollback
    except Rollback:
        pass


def _check(method: str, status: int, before, after, *, scope: str, source: str, target: str) -> None:
    assert status < 500, status
    if method in {"GET", "PROPFIND"}:
        if not within(source, scope):
            # Ancestors of the scope may be traversed (folders: no content); nothing else outside it exists.
            assert status == 404 or within(scope, source), status
        assert after == before
        return
    named = (
        [source, target] if method in {"MOVE", "COPY", "PATCH"} else [target if method in {"MKCOL", "PUT"} else source]
    )
    if not all(within(path, scope) for path in named):
        assert after == before, f"{method} {named} outside {scope} changed the tree"
        return
    for key, seen in before.items():
        if not any(within(seen.path, path) for path in named):
            assert after.get(key) == seen, f"{method} {named} changed {seen.path}"
    for key, seen in after.items():
        assert seen.content is not None, f"{seen.path} lost its content"
        if key not in before:
            assert any(within(seen.path, path) for path in named), f"{method} {named} created {seen.path}"
