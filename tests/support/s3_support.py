"""Helpers for the S3 gateway's tests: boto3 clients whose access key is a PAT, against a live server."""

from __future__ import annotations

import base64
import hashlib

import boto3
from botocore.config import Config

SECRET = "gatewaysecret"


def s3_client(base: str, access_key: str, *, secret: str = SECRET, region: str = "us-east-1", **config: object):
    """A boto3 S3 client for ``base`` (path style, bucket ``io``), failing fast rather than retrying."""
    return boto3.client(
        "s3",
        endpoint_url=base,
        aws_access_key_id=access_key,
        aws_secret_access_key=secret,
        region_name=region,
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1, "mode": "standard"}, **config),
    )


def error_code(excinfo) -> str:
    """The S3 error code of a ``botocore.exceptions.ClientError`` caught by ``pytest.raises``."""
    return str(excinfo.value.response["Error"]["Code"])


def md5_hex(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def md5_base64(data: bytes) -> str:
    """A ``Content-MD5`` header's value."""
    return base64.b64encode(hashlib.md5(data, usedforsecurity=False).digest()).decode()
