"""A user's bytes never run in the console's origin (REST downloads and WebDAV GETs alike): they go out in a
sandbox, unsniffed, and what a browser would run goes out as an attachment; uploads never keep an active type."""

from __future__ import annotations

import pytest

from tests.support.api_helpers import call
from tests.support.dav_support import DavClient
from tests.support.download_support import PROTOCOLS, fetcher, stored_file

SANDBOX = "sandbox; default-src 'none'"


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_download_is_sandboxed_and_unsniffed(demo, protocol):
    fetch = fetcher(demo, protocol, stored_file(demo, "notes.txt", b"hello"))
    response = fetch()
    assert (response.status, response.headers["content-security-policy"]) == (200, SANDBOX)
    assert response.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_partial_and_not_modified_answers_keep_the_sandbox(demo, protocol):
    fetch = fetcher(demo, protocol, stored_file(demo, "notes.txt", b"hello"))
    etag = fetch().headers["etag"]
    assert fetch(range="bytes=0-1").headers["content-security-policy"] == SANDBOX
    assert fetch(if_none_match=etag).headers["content-security-policy"] == SANDBOX


@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize(
    ("name", "stored"),
    [
        ("page.html", "text/html"),
        ("page.txt", "text/html; charset=utf-8"),
        ("drawing.svg", "image/svg+xml"),
        ("feed.xml", "application/atom+xml"),
        ("app.js", "text/javascript"),
        ("odd", "not a type"),
    ],
)
def test_active_type_stored_earlier_goes_out_as_an_octet_stream_attachment(demo, protocol, name, stored):
    fetch = fetcher(demo, protocol, stored_file(demo, name, b"<script>alert(1)</script>", content_type=stored))
    response = fetch()
    assert response.headers["content-type"] == "application/octet-stream"
    assert response.headers["content-disposition"].startswith("attachment;")
    assert response.headers["content-security-policy"] == SANDBOX


def test_webdav_sends_a_file_named_as_an_active_type_as_an_attachment(demo):
    fetch = fetcher(demo, "webdav", stored_file(demo, "page.html", b"<p>hi</p>", content_type="text/plain"))
    assert fetch().headers["content-disposition"] == "attachment; filename=\"page.html\"; filename*=UTF-8''page.html"


def test_webdav_shows_a_passive_file_in_the_browser(demo):
    response = fetcher(demo, "webdav", stored_file(demo, "notes.txt", b"hello"))()
    assert response.headers["content-type"] == "text/plain"
    assert "content-disposition" not in response.headers


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_attachment_names_the_file_in_utf8_and_in_ascii(demo, protocol):
    fetch = fetcher(demo, protocol, stored_file(demo, 'résumé "1" 100%.html', b"x"))
    assert fetch().headers["content-disposition"] == (
        "attachment; filename=\"r_sum_ _1_ 100_.html\"; filename*=UTF-8''r%C3%A9sum%C3%A9%20%221%22%20100%25.html"
    )


def test_webdav_error_pages_are_sandboxed_too(demo):
    _token, secret = demo.token(demo.alice)
    response = DavClient("alice", secret).request("GET", "/dav/research/<svg onload=alert(1)>.html")
    assert (response.status, response.headers["content-security-policy"]) == (404, SANDBOX)


@pytest.mark.parametrize(
    ("name", "claimed", "stored"),
    [
        ("page.html", "text/html", "application/octet-stream"),
        ("notes.txt", "text/html", "text/plain"),
        ("photo.bin", "image/png", "image/png"),
        ("drawing.svg", "image/svg+xml", "application/octet-stream"),
        ("x.bin", "application/xhtml+xml", "application/octet-stream"),
    ],
)
def test_rest_upload_never_keeps_an_active_type(demo, client, alice, name, claimed, stored):
    research = demo.node("/research")
    response = client.put(f"/api/v1/nodes/{research.uuid}/children/{name}", b"<b>x</b>", content_type=claimed, **alice)
    assert response.status_code == 201
    assert demo.node(f"/research/{name}").content_type == stored


def test_rest_replacement_drops_an_active_type_stored_earlier(demo, client, alice):
    node = stored_file(demo, "page.html", b"old", content_type="text/html")
    assert call(client, "PUT", f"/nodes/{node.uuid}/content", b"new", alice).status_code == 200
    assert demo.node("/research/page.html").content_type == "application/octet-stream"


@pytest.mark.parametrize("name", ["page.html", "page.htm", "drawing.svg", "data.xml", "app.js", "style.css"])
def test_webdav_upload_never_keeps_an_active_type(demo, name):
    _token, secret = demo.token(demo.alice)
    dav = DavClient("alice", secret)
    assert dav.put(f"/dav/research/{name}", b"<b>x</b>", content_type="text/html").status == 201
    assert demo.node(f"/research/{name}").content_type == "application/octet-stream"
