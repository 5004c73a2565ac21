"""Conditional uploads over the REST API: If-Match (or If-Unmodified-Since) replaces only the version a script
read, If-None-Match: * creates only; otherwise 412, and nothing changes (not even a stray blob)."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from django.utils.http import http_date

from files import services
from files.conditions import Conditions, from_headers
from files.locks import write_guard
from files.models import Node
from tests.support.api_helpers import call
from tests.support.content import content_of, stored_blobs


def test_if_match_replaces_the_version_that_was_read(client, alice, readme):
    etag = call(client, "GET", f"/nodes/{readme.uuid}/content", headers=alice)["ETag"]
    first = call(client, "PUT", f"/nodes/{readme.uuid}/content", b"mine", alice, HTTP_IF_MATCH=etag)
    assert first.status_code == 200
    assert f'"{first.json()["etag"]}"' != etag
    # A second writer who read the same version loses, and changes nothing.
    second = call(client, "PUT", f"/nodes/{readme.uuid}/content", b"theirs", alice, HTTP_IF_MATCH=etag)
    assert second.status_code == 412
    assert second["Content-Type"].startswith("application/json")
    assert "not in the state" in second.json()["detail"]
    assert content_of(readme) == b"mine"


@pytest.mark.parametrize("header", ['"0000"', 'W/"{etag}"', "not-a-tag", '"a", "b"'])
def test_if_match_with_another_tag_is_412(client, alice, readme, header):
    blobs, before = stored_blobs(), content_of(readme)
    header = header.format(etag=readme.etag)  # a weak tag never matches If-Match
    response = call(client, "PUT", f"/nodes/{readme.uuid}/content", b"x", alice, HTTP_IF_MATCH=header)
    assert response.status_code == 412
    assert (content_of(readme), stored_blobs()) == (before, blobs)


@pytest.mark.parametrize("header", ["*", '"0000", "{etag}"'])
def test_if_match_any_or_in_a_list(client, alice, readme, header):
    response = call(
        client, "PUT", f"/nodes/{readme.uuid}/content", b"new", alice, HTTP_IF_MATCH=header.format(etag=readme.etag)
    )
    assert response.status_code == 200
    assert content_of(readme) == b"new"


def test_if_none_match_star_creates_only(demo, client, alice):
    alpha = demo.node("/common/projects/alpha")
    url = f"/nodes/{alpha.uuid}/children/once.txt"
    assert call(client, "PUT", url, b"first", alice, HTTP_IF_NONE_MATCH="*").status_code == 201
    refused = call(client, "PUT", url, b"second", alice, HTTP_IF_NONE_MATCH="*")
    assert refused.status_code == 412
    assert content_of(demo.node("/common/projects/alpha/once.txt")) == b"first"
    # Replacing by name under If-Match, and If-Match on a name that is free.
    etag = f'"{demo.node("/common/projects/alpha/once.txt").etag}"'
    assert call(client, "PUT", url, b"third", alice, HTTP_IF_MATCH=etag).status_code == 200
    free = f"/nodes/{alpha.uuid}/children/nothing-here.txt"
    assert call(client, "PUT", free, b"x", alice, HTTP_IF_MATCH="*").status_code == 412
    assert not Node.objects.filter(name="nothing-here.txt").exists()


def test_if_none_match_with_the_current_tag_is_412(client, alice, readme):
    etag = f'W/"{readme.etag}"'  # If-None-Match compares weakly
    response = call(client, "PUT", f"/nodes/{readme.uuid}/content", b"x", alice, HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 412
    ok = call(client, "PUT", f"/nodes/{readme.uuid}/content", b"x", alice, HTTP_IF_NONE_MATCH='"other"')
    assert ok.status_code == 200


def test_the_condition_is_checked_again_when_the_write_takes_place(demo, readme):
    """Another write lands after the request was checked and while its body was read: the condition is asked
    again under the row lock, so the second write still fails and leaves no blob behind."""
    read_version = readme.etag
    guard = write_guard.upload_guard(
        write_guard.url_of(readme), Conditions(match=(f'"{read_version}"',), none_match=None)
    )
    blobs = stored_blobs()

    class Racing(io.BytesIO):
        def read(self, size: int = -1) -> bytes:
            chunk = super().read(size)
            if not chunk and Node.objects.get(pk=readme.pk).etag == read_version:
                services.replace_content(node=readme, stream=io.BytesIO(b"the other write"))
            return chunk

    with pytest.raises(services.PreconditionFailed):
        services.replace_content(node=readme, stream=Racing(b"mine"), precondition=guard)
    assert content_of(readme) == b"the other write"
    assert len(stored_blobs() - blobs) == 1  # the other write's blob, and not this one's


@pytest.fixture
def old_readme(readme) -> str:
    """The readme, last changed in 2020: its Last-Modified, as a script read it."""
    old = datetime(2020, 1, 2, 3, 4, 5, tzinfo=UTC)
    Node.objects.filter(pk=readme.pk).update(mtime=old)
    return http_date(old.timestamp())


def test_if_unmodified_since_replaces_only_a_file_not_modified_since(client, alice, readme, old_readme):
    url = f"/nodes/{readme.uuid}/content"
    assert call(client, "GET", url, headers=alice)["Last-Modified"] == old_readme
    assert call(client, "PUT", url, b"mine", alice, HTTP_IF_UNMODIFIED_SINCE=old_readme).status_code == 200
    blobs = stored_blobs()
    stale = call(client, "PUT", url, b"theirs", alice, HTTP_IF_UNMODIFIED_SINCE=old_readme)
    assert stale.status_code == 412
    assert (content_of(readme), stored_blobs()) == (b"mine", blobs)
    later = http_date(datetime(2999, 1, 1, tzinfo=UTC).timestamp())
    assert call(client, "PUT", url, b"later", alice, HTTP_IF_UNMODIFIED_SINCE=later).status_code == 200


@pytest.mark.parametrize("since", ["not a date", "Tue, 32 Dec 2026 00:00:00 GMT", "\x00", ""])
def test_an_if_unmodified_since_that_is_no_date_is_ignored(client, alice, readme, old_readme, since):
    response = call(client, "PUT", f"/nodes/{readme.uuid}/content", b"x", alice, HTTP_IF_UNMODIFIED_SINCE=since)
    assert response.status_code == 200


def test_if_unmodified_since_is_ignored_beside_if_match(client, alice, readme):
    """RFC 9110 §13.1.4: the entity tag is the better validator."""
    long_ago = http_date(datetime(2000, 1, 1, tzinfo=UTC).timestamp())
    response = call(
        client,
        "PUT",
        f"/nodes/{readme.uuid}/content",
        b"x",
        alice,
        HTTP_IF_MATCH=f'"{readme.etag}"',
        HTTP_IF_UNMODIFIED_SINCE=long_ago,
    )
    assert response.status_code == 200


def test_if_unmodified_since_on_a_name_that_is_free_creates_the_file(demo, client, alice):
    """A file that does not exist has no modification date to compare (RFC 9110 §13.1.4)."""
    alpha = demo.node("/common/projects/alpha")
    long_ago = http_date(datetime(2000, 1, 1, tzinfo=UTC).timestamp())
    url = f"/nodes/{alpha.uuid}/children/fresh.txt"
    assert call(client, "PUT", url, b"x", alice, HTTP_IF_UNMODIFIED_SINCE=long_ago).status_code == 201


def test_if_unmodified_since_is_checked_again_when_the_write_takes_place(demo, readme, old_readme):
    conditions = from_headers(None, None, old_readme)
    guard = write_guard.upload_guard(write_guard.url_of(readme), conditions)

    class Racing(io.BytesIO):
        def read(self, size: int = -1) -> bytes:
            chunk = super().read(size)
            if not chunk and Node.objects.get(pk=readme.pk).mtime.year == 2020:
                services.replace_content(node=readme, stream=io.BytesIO(b"the other write"))
            return chunk

    with pytest.raises(services.PreconditionFailed):
        services.replace_content(node=readme, stream=Racing(b"mine"), precondition=guard)
    assert content_of(readme) == b"the other write"
