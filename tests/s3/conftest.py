"""Fixtures of the S3 gateway tests: a live server and alice's boto3 client on it."""

from __future__ import annotations

import pytest

from tests.support.dav_support import live_server
from tests.support.s3_support import s3_client


@pytest.fixture
def server():
    with live_server() as base:
        yield base


@pytest.fixture
def alice_s3(demo, server):
    _token, secret = demo.token(demo.alice)
    return s3_client(server, secret)
