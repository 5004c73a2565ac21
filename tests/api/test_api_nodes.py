"""Workspaces and nodes over the REST API: what each call does, and the decisions the contract leaves open."""

from __future__ import annotations

import pytest

from files.models import Node
from tests.support.api_helpers import API, bearer, call


def scoped(demo, path: str, perm: str) -> dict[str, str]:
    return bearer(demo.token(demo.alice, scopes=[f"node:{demo.node(path).uuid}:{perm}"])[1])


def test_node_json(demo, client, alice):
    readme = demo.node("/common/projects/alpha/readme.txt")
    body = client.get(f"{API}/nodes/{readme.uuid}", **alice).json()
    assert body == {
        "uuid": str(readme.uuid),
        "name": "readme.txt",
        "path": "/common/projects/alpha/readme.txt",
        "type": "file",
        "size": readme.size,
        "mtime": body["mtime"],
        "etag": readme.etag,
        "parent": str(readme.parent_id),
    }


def test_workspaces_of_bob_are_read_only(demo, client):
    body = client.get(f"{API}/workspaces", **bearer(demo.token(demo.bob)[1])).json()
    assert body == [
        {
            "uuid": str(demo.common.uuid),
            "slug": "common",
            "label": "Common Files",
            "root": str(demo.node("/common").uuid),
            "can_write": False,
        }
    ]


def test_scoped_token_sees_only_the_workspace_of_its_scope(demo, client):
    body = client.get(f"{API}/workspaces", **scoped(demo, "/common/projects/alpha", "rw")).json()
    assert [(ws["slug"], ws["can_write"]) for ws in body] == [("common", False)]


def test_traverse_only_folders_list_just_the_branch(demo, client):
    headers = scoped(demo, "/common/projects/alpha", "r")
    root = demo.node("/common")
    names = [n["name"] for n in client.get(f"{API}/nodes/{root.uuid}/children", **headers).json()]
    assert names == ["projects"]
    projects = demo.node("/common/projects")
    names = [n["name"] for n in client.get(f"{API}/nodes/{projects.uuid}/children", **headers).json()]
    assert names == ["alpha"]
    welcome = demo.node("/common/welcome.txt")
    assert client.get(f"{API}/nodes/{welcome.uuid}", **headers).status_code == 404
    assert client.get(f"{API}/nodes?path=/common/welcome.txt", **headers).status_code == 404


def test_ancestors_of_a_scope_cannot_be_written(demo, client):
    headers = scoped(demo, "/common/projects/alpha", "rw")
    projects = demo.node("/common/projects")
    folder = {"name": "x", "type": "folder"}
    assert call(client, "POST", f"/nodes/{projects.uuid}/children", folder, headers).status_code == 403
    assert call(client, "PUT", f"/nodes/{projects.uuid}/children/x.txt", b"x", headers).status_code == 403


def test_unknown_and_unreachable_nodes_look_the_same(demo, client):
    headers = bearer(demo.token(demo.bob)[1])
    paper = demo.node("/research/paper.txt")
    unreachable = client.get(f"{API}/nodes/{paper.uuid}", **headers)
    unknown = client.get(f"{API}/nodes/00000000-0000-4000-8000-000000000000", **headers)
    assert unreachable.status_code == unknown.status_code == 404
    assert unreachable.json() == unknown.json()


@pytest.mark.parametrize("path", ["/", "", "/nowhere", "/common/\x00", "/common/projects/../welcome.txt"])
def test_node_by_odd_path_is_404(demo, client, alice, path):
    assert client.get(f"{API}/nodes", {"path": path}, **alice).status_code == 404


def test_malformed_uuid_is_422(demo, client, alice):
    assert client.get(f"{API}/nodes/not-a-uuid", **alice).status_code == 422


def test_the_scoped_node_itself_cannot_be_removed_or_renamed(demo, client):
    headers = scoped(demo, "/common/projects/alpha", "rw")
    alpha = demo.node("/common/projects/alpha")
    assert call(client, "DELETE", f"/nodes/{alpha.uuid}", None, headers).status_code == 403
    assert call(client, "PATCH", f"/nodes/{alpha.uuid}", {"name": "omega"}, headers).status_code == 403
    assert demo.node("/common/projects/alpha") == alpha


def test_a_workspace_root_cannot_be_removed(demo, client, alice):
    root = demo.node("/common")
    assert call(client, "DELETE", f"/nodes/{root.uuid}", None, alice).status_code == 403
    assert call(client, "PATCH", f"/nodes/{root.uuid}", {"name": "x"}, alice).status_code == 403


def test_delete_removes_the_subtree(demo, client, alice):
    alpha = demo.node("/common/projects/alpha")
    assert call(client, "DELETE", f"/nodes/{alpha.uuid}", None, alice).status_code == 204
    assert not Node.objects.filter(path__startswith="/projects/alpha", workspace=demo.common).exists()


def test_mkdir_conflicts_and_bad_names(demo, client, alice):
    alpha = demo.node("/common/projects/alpha")
    url = f"/nodes/{alpha.uuid}/children"
    assert call(client, "POST", url, {"name": "readme.txt", "type": "folder"}, alice).status_code == 409
    # Name rules are part of the documented schema: a name they refuse never reaches the tree.
    assert call(client, "POST", url, {"name": "..", "type": "folder"}, alice).status_code == 422
    assert call(client, "POST", url, {"name": "a/b", "type": "folder"}, alice).status_code == 422
    assert call(client, "POST", url, {"name": " x", "type": "folder"}, alice).status_code == 422
    assert call(client, "POST", url, {"name": "x", "type": "file"}, alice).status_code == 422
    readme = demo.node("/common/projects/alpha/readme.txt")
    response = call(client, "POST", f"/nodes/{readme.uuid}/children", {"name": "x", "type": "folder"}, alice)
    assert response.status_code == 409


def test_name_with_lone_surrogate_is_refused_not_500(demo, client, alice):
    alpha = demo.node("/common/projects/alpha")
    body = '{"name": "bad\\ud800", "type": "folder"}'
    response = client.post(f"{API}/nodes/{alpha.uuid}/children", body, content_type="application/json", **alice)
    assert response.status_code == 422


def test_list_children_of_a_file_is_409(demo, client, alice):
    readme = demo.node("/common/projects/alpha/readme.txt")
    assert client.get(f"{API}/nodes/{readme.uuid}/children", **alice).status_code == 409


def test_rename(demo, client, alice):
    readme = demo.node("/common/projects/alpha/readme.txt")
    body = call(client, "PATCH", f"/nodes/{readme.uuid}", {"name": "README"}, alice).json()
    assert body["path"] == "/common/projects/alpha/README"


def test_move_into_another_workspace_when_both_sides_allow_it(demo, client, alice):
    alpha = demo.node("/common/projects/alpha")
    research = demo.node("/research")
    body = call(client, "PATCH", f"/nodes/{alpha.uuid}", {"parent": str(research.uuid)}, alice).json()
    assert body["path"] == "/research/alpha"
    assert demo.node("/research/alpha/readme.txt").workspace == demo.research


def test_move_needs_write_on_the_destination(demo, client):
    headers = scoped(demo, "/common/projects/alpha", "rw")
    readme = demo.node("/common/projects/alpha/readme.txt")
    beta = demo.node("/common/projects/beta")
    projects = demo.node("/common/projects")
    response = call(client, "PATCH", f"/nodes/{readme.uuid}", {"parent": str(beta.uuid)}, headers)
    assert response.status_code == 404  # beta does not exist for this token
    response = call(client, "PATCH", f"/nodes/{readme.uuid}", {"parent": str(projects.uuid)}, headers)
    assert response.status_code == 403  # projects is only traversed


def test_move_inside_the_scope(demo, client):
    headers = scoped(demo, "/common/projects/alpha", "w")
    alpha = demo.node("/common/projects/alpha")
    sub = call(client, "POST", f"/nodes/{alpha.uuid}/children", {"name": "sub", "type": "folder"}, headers).json()
    readme = demo.node("/common/projects/alpha/readme.txt")
    response = call(client, "PATCH", f"/nodes/{readme.uuid}", {"parent": sub["uuid"], "name": "r.txt"}, headers)
    assert response.status_code == 200
    assert response.json()["path"] == "/common/projects/alpha/sub/r.txt"


def test_empty_patch_changes_nothing(demo, client, alice):
    readme = demo.node("/common/projects/alpha/readme.txt")
    response = call(client, "PATCH", f"/nodes/{readme.uuid}", {}, alice)
    assert response.status_code == 200
    assert response.json()["mtime"] == client.get(f"{API}/nodes/{readme.uuid}", **alice).json()["mtime"]
    bob = bearer(demo.token(demo.bob)[1])
    assert call(client, "PATCH", f"/nodes/{readme.uuid}", {}, bob).status_code == 403


def test_move_refusals(demo, client, alice):
    alpha = demo.node("/common/projects/alpha")
    readme = demo.node("/common/projects/alpha/readme.txt")
    data = demo.node("/common/projects/alpha/data.csv")
    projects = demo.node("/common/projects")
    assert call(client, "PATCH", f"/nodes/{readme.uuid}", {"name": "data.csv"}, alice).status_code == 409
    assert call(client, "PATCH", f"/nodes/{readme.uuid}", {"parent": str(data.uuid)}, alice).status_code == 409
    assert call(client, "PATCH", f"/nodes/{projects.uuid}", {"parent": str(alpha.uuid)}, alice).status_code == 400
    unknown = "00000000-0000-4000-8000-000000000000"
    assert call(client, "PATCH", f"/nodes/{readme.uuid}", {"parent": unknown}, alice).status_code == 404
