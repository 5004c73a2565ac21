"""Listings page through a folder of 10,000 objects without repeating or skipping a key, with and without the
delimiter, through boto3's paginator against a running server."""

from __future__ import annotations

import pytest
from django.utils import timezone

from files import paths
from files.models import Node
from tests.support.dav_support import live_server
from tests.support.s3_support import s3_client

pytestmark = [pytest.mark.system, pytest.mark.django_db(transaction=True)]

COUNT = 10_000


@pytest.fixture
def crowded(demo):
    """``research/crowd/`` with 10,000 (empty) files and one subfolder, written straight into the tree."""
    root = demo.node("/research")
    folder = Node.objects.create(
        workspace=demo.research, parent=root, name="crowd", path="/crowd", type=Node.FOLDER,
        mtime=timezone.now(), etag="crowd",
    )  # fmt: skip
    now = timezone.now()
    names = [f"f{index:05d}-ü.txt" for index in range(COUNT)]
    Node.objects.bulk_create(
        Node(
            workspace=demo.research, parent=folder, name=name, path=paths.child_path(folder, name), type=Node.FILE,
            mtime=now, etag="e", md5="d41d8cd98f00b204e9800998ecf8427e",
        )
        for name in names
    )  # fmt: skip
    Node.objects.create(
        workspace=demo.research, parent=folder, name="f00042", path="/crowd/f00042", type=Node.FOLDER,
        mtime=now, etag="sub",
    )  # fmt: skip
    return [f"research/crowd/{name}" for name in names]


@pytest.mark.parametrize("delimiter", ["", "/"])
def test_pages_through_ten_thousand_keys_once_each_in_order(demo, crowded, delimiter):
    _token, secret = demo.token(demo.alice)
    with live_server() as base:
        client = s3_client(base, secret)
        paginator = client.get_paginator("list_objects_v2")
        arguments = {"Bucket": "io", "Prefix": "research/crowd/", "PaginationConfig": {"PageSize": 1000}}
        if delimiter:
            arguments["Delimiter"] = delimiter
        keys, prefixes = [], []
        for page in paginator.paginate(**arguments):
            keys += [item["Key"] for item in page.get("Contents", [])]
            prefixes += [item["Prefix"] for item in page.get("CommonPrefixes", [])]
    assert keys == sorted(crowded)
    assert prefixes == (["research/crowd/f00042/"] if delimiter else [])
