"""File content over the REST API: streamed, size-limited, atomic uploads; downloads with ETag and Range."""

from __future__ import annotations

import io
import os

import pytest
from django.conf import settings as django_settings
from django.utils.http import http_date, parse_http_date

from files.models import Node
from tests.support.api_helpers import API, bearer, call
from tests.support.content import content_of as read


def temp_files() -> list[str]:
    return os.listdir(django_settings.FILE_UPLOAD_TEMP_DIR)


def test_upload_creates_then_replaces(demo, client, alice):
    alpha = demo.node("/common/projects/alpha")
    created = call(client, "PUT", f"/nodes/{alpha.uuid}/children/new.bin", b"one", alice)
    assert created.status_code == 201
    replaced = call(client, "PUT", f"/nodes/{alpha.uuid}/children/new.bin", b"two!", alice)
    assert replaced.status_code == 200
    assert replaced.json()["uuid"] == created.json()["uuid"]
    assert replaced.json()["size"] == 4
    assert replaced.json()["etag"] != created.json()["etag"]
    assert read(demo.node("/common/projects/alpha/new.bin")) == b"two!"


def test_upload_over_a_folder_name_is_409(demo, client, alice):
    projects = demo.node("/common/projects")
    assert call(client, "PUT", f"/nodes/{projects.uuid}/children/alpha", b"x", alice).status_code == 409


@pytest.mark.parametrize("name", ["a%2Fb", "..", "%20x", "tab%09"])
def test_upload_name_the_tree_refuses_is_422(demo, client, alice, name):
    alpha = demo.node("/common/projects/alpha")
    assert call(client, "PUT", f"/nodes/{alpha.uuid}/children/{name}", b"x", alice).status_code == 422


def test_uploads_stream_past_djangos_in_memory_body_limit(demo, client, alice, readme, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    body = os.urandom(300 * 1024)
    response = call(client, "PUT", f"/nodes/{readme.uuid}/content", body, alice)
    assert response.status_code == 200
    assert read(readme) == body


def test_scoped_file_token_may_overwrite_its_file_through_the_folder(demo, client, readme):
    headers = bearer(demo.token(demo.alice, scopes=[f"node:{readme.uuid}:rw"])[1])
    alpha = demo.node("/common/projects/alpha")
    assert call(client, "PUT", f"/nodes/{alpha.uuid}/children/readme.txt", b"new", headers).status_code == 200
    assert call(client, "PUT", f"/nodes/{alpha.uuid}/children/other.txt", b"new", headers).status_code == 403


def test_over_size_upload_is_413_and_changes_nothing(demo, client, alice, readme, settings):
    settings.MAX_UPLOAD_SIZE = 10
    before = read(readme)
    alpha = demo.node("/common/projects/alpha")
    assert call(client, "PUT", f"/nodes/{readme.uuid}/content", b"x" * 11, alice).status_code == 413
    assert call(client, "PUT", f"/nodes/{alpha.uuid}/children/big.bin", b"x" * 11, alice).status_code == 413
    assert read(readme) == before
    assert not Node.objects.filter(name="big.bin").exists()
    assert temp_files() == []


def test_over_size_chunked_upload_is_stopped_while_streaming(demo, client, alice, readme, settings):
    settings.MAX_UPLOAD_SIZE = 1000
    before = read(readme)
    response = client.generic(
        "PUT",
        f"{API}/nodes/{readme.uuid}/content",
        CONTENT_LENGTH="",
        CONTENT_TYPE="application/octet-stream",
        **{"wsgi.input": io.BytesIO(b"x" * 5000), "wsgi.input_terminated": True},
        **alice,
    )
    assert response.status_code == 413
    assert read(readme) == before
    assert temp_files() == []


def test_chunked_upload_without_content_length(demo, client, alice, readme):
    response = client.generic(
        "PUT",
        f"{API}/nodes/{readme.uuid}/content",
        CONTENT_LENGTH="",
        CONTENT_TYPE="application/octet-stream",
        **{"wsgi.input": io.BytesIO(b"chunked body"), "wsgi.input_terminated": True},
        **alice,
    )
    assert response.status_code == 200
    assert read(readme) == b"chunked body"


def test_chunked_upload_the_server_does_not_dechunk_is_411(demo, client, alice, readme):
    before = read(readme)
    response = client.generic(
        "PUT",
        f"{API}/nodes/{readme.uuid}/content",
        CONTENT_LENGTH="",
        CONTENT_TYPE="application/octet-stream",
        HTTP_TRANSFER_ENCODING="chunked",
        **{"wsgi.input": io.BytesIO(b"5\r\nhello\r\n0\r\n\r\n")},
        **alice,
    )
    assert response.status_code == 411
    assert read(readme) == before


class BrokenConnection(io.RawIOBase):
    """A client that sends some bytes, then goes away."""

    def __init__(self, sent: bytes, *, raises: bool) -> None:
        self.sent, self.raises = sent, raises

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if self.sent:
            chunk, self.sent = self.sent[:size], self.sent[size:]
            return chunk
        if self.raises:
            raise ConnectionResetError("client went away")
        return b""


@pytest.mark.parametrize("raises", [True, False], ids=["reset", "short"])
def test_interrupted_upload_keeps_the_previous_content_and_leaves_no_node(demo, client, alice, readme, raises):
    before = read(readme)
    alpha = demo.node("/common/projects/alpha")
    for url in (f"/nodes/{readme.uuid}/content", f"/nodes/{alpha.uuid}/children/partial.bin"):
        response = client.generic(
            "PUT",
            API + url,
            CONTENT_LENGTH="100000",
            CONTENT_TYPE="application/octet-stream",
            **{"wsgi.input": BrokenConnection(b"y" * 4000, raises=raises)},
            **alice,
        )
        assert response.status_code == 400
    assert read(readme) == before
    assert not Node.objects.filter(name="partial.bin").exists()
    assert temp_files() == []


def test_bad_content_length_is_400(demo, client, alice, readme):
    response = call(client, "PUT", f"/nodes/{readme.uuid}/content", b"abc", alice, CONTENT_LENGTH="-3")
    assert response.status_code == 400


def test_folder_has_no_content(demo, client, alice):
    alpha = demo.node("/common/projects/alpha")
    assert client.get(f"{API}/nodes/{alpha.uuid}/content", **alice).status_code == 409
    assert call(client, "PUT", f"/nodes/{alpha.uuid}/content", b"x", alice).status_code == 409


@pytest.fixture
def digits(demo, client, alice):
    """A ten-byte file, and a function that downloads it with extra headers."""
    alpha = demo.node("/common/projects/alpha")
    node = call(client, "PUT", f"/nodes/{alpha.uuid}/children/digits.txt", b"0123456789", alice).json()

    def get(**headers):
        response = client.get(f"{API}/nodes/{node['uuid']}/content", **alice, **headers)
        content = b"".join(response.streaming_content) if response.streaming else response.content
        return response, content

    return node, get


def test_download_whole_file(digits):
    node, get = digits
    response, content = get()
    assert response.status_code == 200
    assert content == b"0123456789"
    assert response["ETag"] == f'"{node["etag"]}"'
    assert response["Content-Length"] == "10"
    assert response["Accept-Ranges"] == "bytes"
    assert response["Content-Type"] == "text/plain"
    assert "Token-Expires-At" in response.headers


@pytest.mark.parametrize("given", ["{etag}", "W/{etag}", '"other", {etag}', "*"])
def test_if_none_match_gives_304(digits, given):
    node, get = digits
    response, content = get(HTTP_IF_NONE_MATCH=given.format(etag=f'"{node["etag"]}"'))
    assert response.status_code == 304
    assert content == b""
    assert response["ETag"] == f'"{node["etag"]}"'


def test_a_download_states_when_the_file_was_modified_and_if_modified_since_gives_304(digits):
    node, get = digits
    modified = parse_http_date(get()[0]["Last-Modified"])
    assert modified == int(Node.objects.get(uuid=node["uuid"]).mtime.timestamp())
    for since in (modified, modified + 3600):
        response, content = get(HTTP_IF_MODIFIED_SINCE=http_date(since))
        assert (response.status_code, content) == (304, b"")
        assert (response["ETag"], response["Last-Modified"]) == (f'"{node["etag"]}"', http_date(modified))
    assert get(HTTP_IF_MODIFIED_SINCE=http_date(modified - 1))[0].status_code == 200
    assert get(HTTP_IF_MODIFIED_SINCE="not a date")[0].status_code == 200
    # Beside If-None-Match, If-Modified-Since is ignored (RFC 9110 §13.1.3): another tag is a changed file.
    assert get(HTTP_IF_NONE_MATCH='"other"', HTTP_IF_MODIFIED_SINCE=http_date(modified))[0].status_code == 200
    assert get(HTTP_RANGE="bytes=2-4")[0]["Last-Modified"] == http_date(modified)


@pytest.mark.parametrize(
    ("header", "content", "content_range"),
    [
        ("bytes=2-4", b"234", "bytes 2-4/10"),
        ("bytes=7-", b"789", "bytes 7-9/10"),
        ("bytes=-3", b"789", "bytes 7-9/10"),
        ("bytes=5-99", b"56789", "bytes 5-9/10"),
        ("bytes=-50", b"0123456789", "bytes 0-9/10"),
    ],
)
def test_single_range_is_206(digits, header, content, content_range):
    _node, get = digits
    response, body = get(HTTP_RANGE=header)
    assert response.status_code == 206
    assert body == content
    assert response["Content-Range"] == content_range
    assert response["Content-Length"] == str(len(content))


@pytest.mark.parametrize("header", ["bytes=10-", "bytes=50-60", "bytes=-0"])
def test_unsatisfiable_range_is_416(digits, header):
    _node, get = digits
    response, _content = get(HTTP_RANGE=header)
    assert response.status_code == 416
    assert response["Content-Range"] == "bytes */10"


@pytest.mark.parametrize(
    "header", ["bytes=0-1,4-5", "items=0-1", "bytes=-", "bytes=1-2-3", "bytes=5-2", "bytes=" + "9" * 5000]
)
def test_ranges_we_do_not_serve_give_the_whole_file(digits, header):
    _node, get = digits
    response, content = get(HTTP_RANGE=header)
    assert response.status_code == 200
    assert content == b"0123456789"


def test_stale_if_range_gives_the_whole_file(digits):
    node, get = digits
    response, _content = get(HTTP_RANGE="bytes=0-1", HTTP_IF_RANGE='"stale"')
    assert response.status_code == 200
    response, content = get(HTTP_RANGE="bytes=0-1", HTTP_IF_RANGE=f'"{node["etag"]}"')
    assert response.status_code == 206
    assert content == b"01"


def test_empty_file_downloads_and_refuses_ranges(demo, client, alice):
    alpha = demo.node("/common/projects/alpha")
    node = call(client, "PUT", f"/nodes/{alpha.uuid}/children/empty", b"", alice).json()
    response = client.get(f"{API}/nodes/{node['uuid']}/content", **alice)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b""
    assert client.get(f"{API}/nodes/{node['uuid']}/content", HTTP_RANGE="bytes=0-0", **alice).status_code == 416
