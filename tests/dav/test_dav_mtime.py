"""X-OC-Mtime: a WebDAV upload keeps the client's modification time (ownCloud's and Nextcloud's clients, rclone
with ``--webdav-vendor owncloud``), so that a sync tool comparing size and time sees a changed file."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from files.models import Node
from tests.support.content import stored_blobs
from tests.support.dav_support import DavClient

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
