"""Downloading a file the same way over the REST API and WebDAV, for the tests of what both serve alike
(ranges, the headers that go with a user's bytes)."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass

from django.test import Client

from files import services
from files.models import Node
from tests.support.api_helpers import API
from tests.support.dav_support import DavClient

PROTOCOLS = ("rest", "webdav")


@dataclass
class Download:
    status: int
    headers: dict[str, str]
    body: bytes


Fetch = Callable[..., Download]


def stored_file(demo, name: str, data: bytes, *, content_type: str = "") -> Node:
    """A file in alice's /research, written as the tree writes it; ``content_type`` forced afterwards when given
    (a row stored before uploads were kept from active types)."""
    node, _created = services.write_file(parent=demo.node("/research"), name=name, stream=io.BytesIO(data))
    if content_type:
        Node.objects.filter(pk=node.pk).update(content_type=content_type)
        node.refresh_from_db()
    return node


def fetcher(demo, protocol: str, node: Node) -> Fetch:
    """A function that GETs (or, with ``method="HEAD"``, HEADs) ``node``'s bytes as alice, with extra headers
    given as keyword arguments (``range="bytes=0-1"``)."""
    _token, secret = demo.token(demo.alice)
    if protocol == "rest":
        client = Client()

        def rest(method: str = "GET", **headers: str) -> Download:
            meta = {"HTTP_" + name.upper(): value for name, value in headers.items()}
            response = client.generic(
                method, f"{API}/nodes/{node.uuid}/content", HTTP_AUTHORIZATION=f"Bearer {secret}", **meta
            )
            body = response.getvalue()  # the whole body, streamed or not
            return Download(response.status_code, {k.lower(): v for k, v in response.headers.items()}, body)

        return rest
    dav = DavClient("alice", secret)

    def webdav(method: str = "GET", **headers: str) -> Download:
        response = dav.request(method, f"/dav/research/{node.name}", **headers)
        return Download(response.status, response.headers, response.body)

    return webdav
