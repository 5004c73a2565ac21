"""X-OC-Mtime: a WebDAV upload keeps the client's modification time (ownCloud's and Nextcloud's clients, rclone
with ``--webdav-vendor owncloud``), so that a sync tool comparing size and time sees a changed file."""

from __future__ import annotations

import os
from datetime import UTC, datetime

import pytest

from files.models import Node
from tests.conftest import require_tool, stored_blobs
from tests.dav_support import DavClient, live_server
from tests.test_dav_rclone import Rclone

FOLDER = "/dav/common/projects/alpha"


@pytest.fixture
def dav(demo):
    _token, secret = demo.token(demo.alice)
    return DavClient("alice", secret)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("1700000000", datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)),
        (" 1700000000.75 ", datetime(2023, 11, 14, 22, 13, 20, 750000, tzinfo=UTC)),
        ("0", datetime(1970, 1, 1, tzinfo=UTC)),
    ],
)
def test_an_upload_keeps_the_clients_modification_time(demo, dav, header, expected):
    response = dav.put(f"{FOLDER}/kept.txt", b"kept", x_oc_mtime=header)
    assert response.status == 201
    assert response.headers["x-oc-mtime"] == "accepted"
    node = demo.node("/common/projects/alpha/kept.txt")
    assert node.mtime == expected
    listed = dav.propfind(f"{FOLDER}/kept.txt", depth="0").body.decode()
    assert f"<D:getlastmodified>{expected:%a, %d %b %Y %H:%M:%S} GMT</D:getlastmodified>" in listed


def test_a_replacement_takes_the_new_time_and_without_the_header_it_is_now(demo, dav):
    assert dav.put(f"{FOLDER}/readme.txt", b"new", x_oc_mtime="1600000000").status == 204
    assert demo.node("/common/projects/alpha/readme.txt").mtime == datetime.fromtimestamp(1600000000, UTC)
    before = datetime.now(UTC)
    plain = dav.put(f"{FOLDER}/readme.txt", b"newer")
    assert plain.status == 204
    assert "x-oc-mtime" not in plain.headers
    assert demo.node("/common/projects/alpha/readme.txt").mtime >= before.replace(microsecond=0)


@pytest.mark.parametrize(
    "header", ["", "soon", "-1", "nan", "inf", "1e20", "253402300800", "0x10", "1700000000;drop", "١٧٠٠"]
)
def test_a_bad_modification_time_is_400_and_stores_nothing(demo, dav, header):
    blobs = stored_blobs()
    response = dav.put(f"{FOLDER}/refused.txt", b"refused", x_oc_mtime=header)
    assert response.status == 400
    assert "x-oc-mtime" not in response.headers
    assert not Node.objects.filter(name="refused.txt").exists()
    assert stored_blobs() == blobs


@pytest.mark.system
@pytest.mark.django_db(transaction=True)
def test_rclone_as_an_owncloud_client_keeps_times_and_syncs_a_same_size_change(demo, tmp_path):
    program = require_tool("rclone")
    _token, secret = demo.token(demo.alice)
    local = tmp_path / "local"
    local.mkdir()
    (local / "a.txt").write_text("version 1\n")
    (local / "b.txt").write_text("unchanged\n")
    os.utime(local / "a.txt", (1600000000, 1600000000))
    os.utime(local / "b.txt", (1650000000, 1650000000))
    with live_server() as base:
        rclone = Rclone(program, base, "alice", secret, tmp_path, vendor="owncloud")
        copied = rclone("copy", str(local), ":webdav:research/synced")
        assert copied.returncode == 0, copied.stderr
        listed = rclone("lsl", ":webdav:research/synced")
        assert listed.returncode == 0, listed.stderr
        assert "2020-09-13 12:26:40" in listed.stdout and "2022-04-15 05:20:00" in listed.stdout, listed.stdout

        # Same size, new content and time: only a client that sees the time notices.
        (local / "a.txt").write_text("version 2\n")
        os.utime(local / "a.txt", (1700000000, 1700000000))
        synced = rclone("sync", str(local), ":webdav:research/synced")
        assert synced.returncode == 0, synced.stderr
        checked = rclone("check", "--download", str(local), ":webdav:research/synced")
        assert checked.returncode == 0, checked.stderr + checked.stdout
    assert demo.node("/research/synced/a.txt").mtime == datetime.fromtimestamp(1700000000, UTC)
