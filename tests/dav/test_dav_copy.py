"""WebDAV COPY of folders: the whole tree lands, or nothing does (no half tree, no stray blob)."""

from __future__ import annotations

import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from files import paths, services
from files.models import DeadProperty, Node
from tests.support.content import content_of, stored_blobs
from tests.support.dav_support import PROPPATCH_BODY, DavClient
from tests.support.races import before_the_write_reads_its_locks, lock_elsewhere

PROJECTS = "/dav/common/projects"
ALPHA = f"{PROJECTS}/alpha"


@pytest.fixture
def dav(demo) -> DavClient:
    _token, secret = demo.token(demo.alice)
    return DavClient("alice", secret)


def _tree(demo, public_path: str) -> dict[str, bytes | None]:
    """Relative path → content (None for a folder) of everything below ``public_path``."""
    top = demo.node(public_path)
    nodes = Node.objects.filter(workspace_id=top.workspace_id, path__startswith_exactly=top.path + "/")
    return {node.path[len(top.path) :]: None if node.is_folder else content_of(node) for node in nodes}


def test_a_folder_copy_to_a_new_place_is_201_with_the_whole_tree(demo, dav):
    assert dav.request("MKCOL", f"{ALPHA}/deeper").status == 201
    assert dav.put(f"{ALPHA}/deeper/inner.txt", b"inner").status == 201
    source = _tree(demo, "/common/projects/alpha")
    blobs_before = stored_blobs()
    response = dav.request("COPY", ALPHA, destination="/dav/research/alpha-copy")
    assert response.status == 201
    assert _tree(demo, "/research/alpha-copy") == source
    assert len(stored_blobs() - blobs_before) == 3  # each copied file has content of its own
    assert dav.propfind("/dav/research/alpha-copy/deeper").names() == ["inner.txt"]


def test_a_copy_keeps_modification_times_and_dead_properties(demo, dav):
    assert dav.request("PROPPATCH", f"{ALPHA}/readme.txt", PROPPATCH_BODY).status == 207
    assert dav.request("PROPPATCH", ALPHA, PROPPATCH_BODY).status == 207
    assert dav.request("COPY", ALPHA, destination="/dav/research/alpha-copy").status == 201
    original, copied = demo.node("/common/projects/alpha/readme.txt"), demo.node("/research/alpha-copy/readme.txt")
    assert copied.mtime == original.mtime
    assert copied.etag == original.etag  # the same bytes
    for node in (copied, demo.node("/research/alpha-copy")):
        assert list(DeadProperty.objects.filter(node=node).values_list("name", flat=True)) == ["{urn:x}colour"]
    # The source keeps its own.
    assert DeadProperty.objects.filter(node=original).count() == 1


def test_a_copy_that_fails_halfway_leaves_nothing(demo, dav):
    """A member whose path would be too long at the destination: WsgiDAV used to copy the others and
    answer 207; now the copy is refused whole, before anything exists at the destination."""
    long_name = "n" * 250
    folder = demo.node("/common/projects/alpha")
    path = folder.path
    for _ in range(7):  # a path of about 1,800 characters; two more levels at the destination pass 2,048
        created = services.create_folder(parent=folder, name=long_name)
        folder, path = created, created.path
    services.write_file(parent=folder, name="deep.txt", stream=io.BytesIO(b"deep"))
    assert len(path) < paths.MAX_PATH_LENGTH
    services.create_folder(parent=demo.node("/research"), name="d" * 250)
    nodes, blobs_before = Node.objects.count(), stored_blobs()
    destination = "/dav/research/" + "d" * 250 + "/" + "e" * 250
    response = dav.request("COPY", ALPHA, destination=destination)
    assert response.status == 400
    assert b"at most 2048 characters" in response.body
    assert Node.objects.count() == nodes
    assert stored_blobs() == blobs_before
    assert dav.propfind(destination, depth="0").status == 404


def test_a_copy_whose_source_file_vanished_is_409_and_leaves_nothing(demo, dav):
    from django.core.files.storage import default_storage

    default_storage.delete(demo.node("/common/projects/alpha/readme.txt").blob)
    nodes, blobs_before = Node.objects.count(), stored_blobs()
    assert dav.request("COPY", ALPHA, destination="/dav/research/alpha-copy").status == 409
    assert Node.objects.count() == nodes
    assert stored_blobs() == blobs_before


def test_a_failed_copy_over_a_folder_keeps_the_destination(demo, dav):
    from django.core.files.storage import default_storage

    beta = _tree(demo, "/common/projects/beta")
    default_storage.delete(demo.node("/common/projects/alpha/readme.txt").blob)
    assert dav.request("COPY", ALPHA, destination=f"{PROJECTS}/beta").status == 409
    assert _tree(demo, "/common/projects/beta") == beta


def test_a_copy_over_a_folder_replaces_it_exactly(demo, dav):
    source = _tree(demo, "/common/projects/alpha")
    assert dav.request("COPY", ALPHA, destination=f"{PROJECTS}/beta").status == 204
    assert _tree(demo, "/common/projects/beta") == source  # notes.md, which alpha lacks, is gone


def test_a_depth_0_copy_of_a_folder_copies_the_folder_alone(demo, dav):
    assert dav.request("COPY", ALPHA, destination="/dav/research/empty", depth="0").status == 201
    assert demo.node("/research/empty").is_folder
    assert dav.propfind("/dav/research/empty").names() == []


def test_a_copy_onto_a_folder_that_holds_the_source_is_refused(demo, dav):
    before = _tree(demo, "/common")
    response = dav.request("COPY", f"{ALPHA}/readme.txt", destination=PROJECTS)
    assert response.status == 403
    assert _tree(demo, "/common") == before


def test_a_file_copy_to_a_new_name_is_201(demo, dav):
    assert dav.request("COPY", f"{ALPHA}/readme.txt", destination="/dav/research/readme.txt").status == 201
    assert content_of(demo.node("/research/readme.txt")) == content_of(demo.node("/common/projects/alpha/readme.txt"))


def test_a_file_copy_over_a_folder_replaces_the_folder(demo, dav):
    assert dav.request("COPY", f"{ALPHA}/readme.txt", destination=f"{PROJECTS}/beta").status == 204
    assert not demo.node("/common/projects/beta").is_folder
    assert not Node.objects.filter(name="notes.md").exists()


def test_a_folder_copy_costs_the_same_queries_whatever_its_size(demo, dav):
    def queries(count: int, name: str) -> int:
        folder = services.create_folder(parent=demo.node("/common/projects"), name=name)
        for index in range(count):
            services.write_file(parent=folder, name=f"f{index}.txt", stream=io.BytesIO(b"x"))
        with CaptureQueriesContext(connection) as context:
            assert dav.request("COPY", f"{PROJECTS}/{name}", destination=f"/dav/research/{name}").status == 201
        return len(context.captured_queries)

    assert dav.propfind(PROJECTS).status == 207  # the token's first use of the minute writes its last use
    assert queries(2, "small") == queries(40, "large")


def test_a_destination_locked_while_the_copy_is_made_refuses_it(demo, dav, monkeypatch):
    """Another process locks the destination folder while the contents are being duplicated: the copy reads the
    locks again where it writes."""
    before_the_write_reads_its_locks(monkeypatch, lock_elsewhere("/research"))
    nodes, blobs_before = Node.objects.count(), stored_blobs()
    assert dav.request("COPY", ALPHA, destination="/dav/research/alpha-copy").status == 423
    assert Node.objects.count() == nodes
    assert stored_blobs() == blobs_before
