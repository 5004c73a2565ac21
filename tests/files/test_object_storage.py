"""File contents in a real object store (SeaweedFS, ``tests.support.object_store``): uploads stream into it in
parts and appear whole or not at all, reads stream from the offset asked for, and ``blobs_prune`` removes what
no file points at."""

from __future__ import annotations

import hashlib
import io
import re
import subprocess
import sys
import tracemalloc

import pytest
from django.core.files.storage import default_storage
from django.core.management import call_command

from files import blobs, copies, services
from files.models import Node
from tests.support.content import content_of, stored_blobs
from tests.support.object_store import BUCKET, ranges_asked
from tests.support.servers import ROOT, run_manage, scratch_env

MiB = 1024 * 1024


class Generated:
    """``size`` bytes made as they are read (never the whole file in memory); ``break_at``: the read that would
    go past that many bytes fails instead, as a client that hangs up does."""

    def __init__(self, size: int, break_at: int | None = None) -> None:
        self.size = size
        self.break_at = break_at
        self.sent = 0
        self.digest = hashlib.md5(usedforsecurity=False)
        self.largest_read = 0

    def read(self, size: int = -1, /) -> bytes:
        size = self.size - self.sent if size < 0 else min(size, self.size - self.sent)
        self.largest_read = max(self.largest_read, size)
        if self.break_at is not None and self.sent + size > self.break_at:
            raise ConnectionResetError("client went away")
        chunk = (self.sent // MiB % 251).to_bytes(1, "big") * size
        self.sent += size
        self.digest.update(chunk)
        return chunk


def _md5(node: Node) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with services.open_content(node) as handle:
        while chunk := handle.read(MiB):
            digest.update(chunk)
    return digest.hexdigest()


def _store_state(object_store, location: str) -> tuple[set[str], list[str]]:
    """Every object and every unfinished multipart upload under the test's prefix."""
    return object_store.keys(location + "/"), object_store.incomplete_uploads(location + "/")


def test_a_large_upload_goes_up_in_parts_without_the_file_in_memory(s3_blobs, demo, object_store):
    stream = Generated(96 * MiB)
    tracemalloc.start()
    try:
        node, created = services.write_file(parent=demo.node("/common"), name="large.bin", stream=stream)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert created and node.size == 96 * MiB
    assert peak < 48 * MiB  # a few parts of 8 MiB at a time, never the 96 MiB
    head = object_store.client().head_object(Bucket=BUCKET, Key=f"{s3_blobs}/{node.blob}")
    assert head["ContentLength"] == 96 * MiB
    assert head["ETag"].strip('"').endswith("-12")  # a multipart upload of twelve parts
    assert _md5(node) == stream.digest.hexdigest()
    assert node.etag == node.md5 == stream.digest.hexdigest()


def test_a_small_upload_is_one_object(s3_blobs, demo, object_store):
    node, _created = services.write_file(parent=demo.node("/common"), name="small.txt", stream=io.BytesIO(b"hello"))
    head = object_store.client().head_object(Bucket=BUCKET, Key=f"{s3_blobs}/{node.blob}")
    assert "-" not in head["ETag"] and head["ContentLength"] == 5
    assert content_of(node) == b"hello"


def test_a_read_from_an_offset_asks_the_store_for_that_range_once(s3_blobs, demo):
    digits = b"0123456789" * 1000
    node, _created = services.write_file(parent=demo.node("/common"), name="digits.txt", stream=io.BytesIO(digits))
    sent = ranges_asked()
    with services.open_content(node, 4995) as handle:
        assert sent == ["bytes=4995-"]  # asked when opened
        assert handle.read(10) == b"5678901234"
        assert handle.read() == digits[5005:]
    assert sent == ["bytes=4995-"]


def test_a_deferred_read_asks_the_store_only_where_it_is_read(s3_blobs, demo):
    node, _created = services.write_file(parent=demo.node("/common"), name="d.txt", stream=io.BytesIO(b"abcdefghij"))
    sent = ranges_asked()
    with services.open_content(node, deferred=True) as handle:
        assert sent == []
        handle.seek(4)
        assert handle.read() == b"efghij"
    assert sent == ["bytes=4-"]


def test_a_copy_is_made_by_the_store_without_its_bytes_passing_through(s3_blobs, demo):
    readme = demo.node("/common/projects/alpha/readme.txt")
    sent = ranges_asked()
    copied = copies.copy(node=readme, parent=demo.node("/common"), name="copy.txt")
    assert sent == []
    assert copied.blob != readme.blob and content_of(copied) == content_of(readme)


def test_a_missing_object_reads_as_a_missing_file(s3_blobs, demo):
    node = demo.node("/common/welcome.txt")
    default_storage.delete(node.blob)
    with pytest.raises(FileNotFoundError):
        services.open_content(node)


@pytest.mark.parametrize(
    ("stream", "error"),
    [
        (Generated(40 * MiB, break_at=20 * MiB), ConnectionResetError),
        (Generated(40 * MiB), services.UploadTooLarge),
    ],
    ids=["client hangs up", "over the limit"],
)
def test_an_upload_that_fails_after_its_first_parts_leaves_nothing_in_the_store(
    s3_blobs, demo, object_store, stream, error
):
    welcome = demo.node("/common/welcome.txt")
    before, store_before = content_of(welcome), _store_state(object_store, s3_blobs)
    with pytest.raises(error):
        services.replace_content(node=welcome, stream=stream, max_size=30 * MiB)
    assert stream.sent >= 16 * MiB  # past the threshold: parts had gone up
    assert content_of(welcome) == before
    assert _store_state(object_store, s3_blobs) == store_before


def test_the_replaced_object_goes_only_once_the_write_commits(s3_blobs, demo, django_capture_on_commit_callbacks):
    welcome = demo.node("/common/welcome.txt")
    with django_capture_on_commit_callbacks() as callbacks:
        services.replace_content(node=welcome, stream=io.BytesIO(b"new"))
        assert default_storage.exists(welcome.blob)  # still there until the transaction commits
    for callback in callbacks:
        callback()
    assert not default_storage.exists(welcome.blob)
    assert content_of(welcome) == b"new"


@pytest.fixture(params=["local", "object store"])
def either_store(request):
    """Each test of ``blobs_prune`` runs on local files and in the object store (asked before ``demo``)."""
    request.getfixturevalue("local_blobs" if request.param == "local" else "s3_blobs")
    return request.param


def test_blobs_prune_removes_what_no_file_points_at_once_it_is_older_than_the_grace(either_store, demo):
    orphan = blobs.store(io.BytesIO(b"left behind"), None).name
    referenced = {name.removeprefix("blobs/") for name in Node.objects.exclude(blob="").values_list("blob", flat=True)}
    out = io.StringIO()
    call_command("blobs_prune", "--grace", "1", stdout=out)  # written just now: it may be an upload on its way
    assert out.getvalue() == "0 unreferenced blob(s) and 0 incomplete upload(s) removed.\n"
    call_command("blobs_prune", "--grace", "0", "--dry-run", "-v", "2", stdout=out)
    assert orphan in out.getvalue() and default_storage.exists(orphan)
    call_command("blobs_prune", "--grace", "0", stdout=(out := io.StringIO()))
    assert out.getvalue() == "1 unreferenced blob(s) and 0 incomplete upload(s) removed.\n"
    assert stored_blobs() == referenced
    assert content_of(demo.node("/common/welcome.txt")) == b"Welcome to the Common Files workspace.\n"


def test_blobs_prune_aborts_the_multipart_uploads_left_unfinished(s3_blobs, demo, object_store):
    client, key = object_store.client(), f"{s3_blobs}/blobs/ab/abandoned"
    upload = client.create_multipart_upload(Bucket=BUCKET, Key=key)
    client.upload_part(Bucket=BUCKET, Key=key, UploadId=upload["UploadId"], PartNumber=1, Body=b"x" * MiB)
    call_command("blobs_prune", "--grace", "1", stdout=io.StringIO())
    assert object_store.incomplete_uploads(s3_blobs + "/") == [key]
    out = io.StringIO()
    call_command("blobs_prune", "--grace", "0", stdout=out)
    # The prune sweeps the whole store: another test's leftovers on this worker's store may go with it.
    assert re.fullmatch(r"\d+ unreferenced blob\(s\) and [1-9]\d* incomplete upload\(s\) removed\.\n", out.getvalue())
    assert object_store.incomplete_uploads(s3_blobs + "/") == []
    assert object_store.keys(s3_blobs + "/blobs/ab/") == set()


def test_an_endpoint_without_a_bucket_stops_the_start_with_one_line(tmp_path):
    env = scratch_env(tmp_path, BLOB_S3_ENDPOINT="http://127.0.0.1:9", BLOB_S3_BUCKET="")
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode != 0
    assert "BLOB_S3_ENDPOINT and BLOB_S3_BUCKET go together: set both, or neither." in result.stderr


_CLIENT_TIMEOUTS = (
    "from django.core.files.storage import default_storage; "
    "config = default_storage.connection.meta.client.meta.config; "
    "print(config.connect_timeout, config.read_timeout)"
)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ({}, "5 30"),
        ({"BLOB_S3_CONNECT_TIMEOUT": "1.5", "BLOB_S3_READ_TIMEOUT": "120"}, "1.5 120.0"),
    ],
)
def test_the_object_store_timeouts_reach_the_client_from_the_environment(tmp_path, given, expected):
    # The client is made without a word to the store: an endpoint where nothing listens will do.
    env = scratch_env(tmp_path, BLOB_S3_ENDPOINT="http://127.0.0.1:9", BLOB_S3_BUCKET="b")
    for name in ("BLOB_S3_CONNECT_TIMEOUT", "BLOB_S3_READ_TIMEOUT"):
        env.pop(name, None)
    env.update(given)
    result = run_manage(env, "shell", "--no-imports", "-c", _CLIENT_TIMEOUTS)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == expected


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("BLOB_S3_CONNECT_TIMEOUT", "0"),
        ("BLOB_S3_CONNECT_TIMEOUT", "ten"),
        ("BLOB_S3_READ_TIMEOUT", "-1"),
        ("BLOB_S3_READ_TIMEOUT", "nan"),
        ("BLOB_S3_READ_TIMEOUT", "inf"),
    ],
)
def test_a_timeout_that_is_no_positive_number_stops_the_start_naming_it(tmp_path, name, value):
    env = scratch_env(tmp_path, BLOB_S3_ENDPOINT="http://127.0.0.1:9", BLOB_S3_BUCKET="b", **{name: value})
    result = run_manage(env, "check")
    assert result.returncode != 0
    assert f"{name} must be a positive number of seconds, not {value!r}." in result.stderr
