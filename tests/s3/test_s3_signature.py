"""AWS Signature V4 as the gateway checks it, against requests signed by botocore itself; and every payload form
(a hash, UNSIGNED-PAYLOAD, aws-chunked unsigned with a trailer, aws-chunked signed chunk by chunk)."""

from __future__ import annotations

import base64
import hashlib
import zlib
from datetime import UTC, datetime, timedelta

import pytest
from botocore.awsrequest import AWSRequest

from files.models import Node
from s3 import signature
from s3.errors import S3Error
from tests.support.dav_support import live_server
from tests.support.s3_support import (
    ChunkSigner,
    aws_chunked,
    environ_of,
    s3_client,
    send,
    signed,
    tls_server,
)

ACCESS_KEY = "cpat_someaccesskey"
URL = "http://127.0.0.1:8000/io/common/some%20file.txt?x-id=GetObject"


def _now(environ) -> datetime:
    return datetime.strptime(environ["HTTP_X_AMZ_DATE"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)


def test_a_request_botocore_signed_verifies():
    environ = environ_of(signed("GET", URL, ACCESS_KEY))
    claim = signature.verify(environ, now=_now(environ))
    assert claim.access_key == ACCESS_KEY
    assert claim.region == "us-east-1"


def test_any_region_verifies():
    environ = environ_of(signed("GET", URL, ACCESS_KEY, region="ap-southeast-2"))
    assert signature.verify(environ, now=_now(environ)).region == "ap-southeast-2"


def test_a_body_with_its_hash_and_an_unsigned_payload_verify():
    for payload in (None, "UNSIGNED-PAYLOAD"):
        environ = environ_of(signed("PUT", URL, ACCESS_KEY, body=b"bytes", payload=payload))
        assert signature.verify(environ, now=_now(environ)).access_key == ACCESS_KEY


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("RAW_URI", "/io/common/other.txt?x-id=GetObject"),
        ("QUERY_STRING", "x-id=PutObject"),
        ("REQUEST_METHOD", "DELETE"),
        ("HTTP_HOST", "evil.example"),
        ("HTTP_X_AMZ_CONTENT_SHA256", hashlib.sha256(b"other").hexdigest()),
    ],
)
def test_a_tampered_request_does_not_match(field, value):
    environ = environ_of(signed("GET", URL, ACCESS_KEY))
    environ[field] = value
    if field == "QUERY_STRING":
        environ["RAW_URI"] = "/io/common/some%20file.txt?" + value
    with pytest.raises(S3Error) as refused:
        signature.verify(environ, now=_now(environ))
    assert refused.value.code == "SignatureDoesNotMatch"


def test_another_secret_does_not_match():
    environ = environ_of(signed("GET", URL, ACCESS_KEY, secret="not-the-gateway-secret"))
    with pytest.raises(S3Error) as refused:
        signature.verify(environ, now=_now(environ))
    assert refused.value.code == "SignatureDoesNotMatch"


def test_a_request_from_long_ago_is_refused():
    environ = environ_of(signed("GET", URL, ACCESS_KEY))
    with pytest.raises(S3Error) as refused:
        signature.verify(environ, now=_now(environ) + timedelta(hours=1))
    assert refused.value.code == "RequestTimeTooSkewed"


@pytest.mark.parametrize(
    "header",
    [
        "AWS4-HMAC-SHA256",
        "AWS4-HMAC-SHA256 Credential=",
        "AWS4-HMAC-SHA256 Credential=a/b, SignedHeaders=host, Signature=00",
        "AWS4-HMAC-SHA256 Credential=k/20260101/r/s3/aws4_request, SignedHeaders=Host, Signature=00",
        "AWS4-HMAC-SHA256 Credential=k/20260101/r/s3/aws4_request, Signature=00",
        "AWS4-HMAC-SHA256 Credential=k/20260101/r/s3/aws4_request,SignedHeaders=host;x-amz-date,Signature=00,x=1",
    ],
)
def test_malformed_authorization_headers_are_s3_errors(header):
    environ = environ_of(signed("GET", URL, ACCESS_KEY))
    environ["HTTP_AUTHORIZATION"] = header
    with pytest.raises(S3Error) as refused:
        signature.verify(environ, now=_now(environ))
    assert refused.value.status in (400, 403)


def test_an_unsigned_content_hash_header_is_refused():
    environ = environ_of(signed("GET", URL, ACCESS_KEY))
    environ["HTTP_X_AMZ_CONTENT_SHA256"] = "whatever"
    with pytest.raises(S3Error) as refused:
        signature.verify(environ, now=_now(environ))
    assert refused.value.code == "InvalidArgument"


# --- Payload forms against a running server ------------------------------------------------------------------------


def _crc32(data: bytes) -> str:
    return base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()


def _headers(request) -> dict[str, str]:
    """A request's headers as sent, by lower-case name (botocore's own signer gives bytes and its case, awscrt's
    signer, which botocore uses when awscrt is installed, str and lower case)."""
    return {
        name.lower(): value.decode() if isinstance(value, bytes) else value for name, value in request.headers.items()
    }


def _chunked_headers(data: bytes) -> dict[str, str]:
    return {
        "Content-Encoding": "aws-chunked",
        "X-Amz-Decoded-Content-Length": str(len(data)),
        "X-Amz-Trailer": "x-amz-checksum-crc32",
    }


@pytest.mark.system
@pytest.mark.django_db(transaction=True)
def test_unsigned_payload_from_boto3_is_stored(demo):
    _token, secret = demo.token(demo.alice)
    with live_server() as base:
        client = s3_client(base, secret, s3={"addressing_style": "path", "payload_signing_enabled": False})
        seen = []
        client.meta.events.register("before-send", lambda request, **_: seen.append(_headers(request)))
        client.put_object(Bucket="io", Key="research/unsigned.txt", Body=b"unsigned body")
        assert seen[-1]["x-amz-content-sha256"] == "UNSIGNED-PAYLOAD"
        assert client.get_object(Bucket="io", Key="research/unsigned.txt")["Body"].read() == b"unsigned body"


@pytest.mark.system
@pytest.mark.django_db(transaction=True)
def test_aws_chunked_with_a_crc32_trailer_is_decoded_and_checked(demo):
    _token, secret = demo.token(demo.alice)
    data = bytes(range(256)) * 300
    with live_server() as base:
        body = aws_chunked(data, 8192, trailer=f"x-amz-checksum-crc32:{_crc32(data)}")
        request = signed(
            "PUT",
            f"{base}/io/research/chunked.bin",
            secret,
            body=body,
            headers=_chunked_headers(data),
            payload="STREAMING-UNSIGNED-PAYLOAD-TRAILER",
        )
        assert request.headers["X-Amz-Content-SHA256"] == "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
        response = send(request)
        assert response.status == 200, response.data
    node = demo.node("/research/chunked.bin")
    assert node.size == len(data)
    assert node.md5 == hashlib.md5(data, usedforsecurity=False).hexdigest()


@pytest.mark.system
@pytest.mark.django_db(transaction=True)
def test_aws_chunked_with_a_wrong_trailer_checksum_stores_nothing(demo):
    _token, secret = demo.token(demo.alice)
    data = b"some bytes to check"
    with live_server() as base:
        body = aws_chunked(data, 5, trailer=f"x-amz-checksum-crc32:{_crc32(b'other')}")
        request = signed(
            "PUT",
            f"{base}/io/research/wrong.bin",
            secret,
            body=body,
            headers=_chunked_headers(data),
            payload="STREAMING-UNSIGNED-PAYLOAD-TRAILER",
        )
        response = send(request)
    assert response.status == 400
    assert b"<Code>BadDigest</Code>" in response.data
    assert not Node.objects.filter(name="wrong.bin").exists()


@pytest.mark.system
@pytest.mark.django_db(transaction=True)
def test_a_body_that_is_not_the_signed_hash_stores_nothing(demo):
    _token, secret = demo.token(demo.alice)
    with live_server() as base:
        request = signed("PUT", f"{base}/io/research/swapped.txt", secret, body=b"signed bytes")
        response = send(request, body=b"other bytes!")
    assert response.status == 400
    assert b"<Code>XAmzContentSHA256Mismatch</Code>" in response.data
    assert not Node.objects.filter(name="swapped.txt").exists()


def _signed_chunks(request: AWSRequest, data: bytes, size: int, *, break_at: int | None = None) -> bytes:
    """``data`` as a signed aws-chunked body: each chunk signed by botocore's signer over the previous one."""
    signer = ChunkSigner(request)
    chunks = [data[start : start + size] for start in range(0, len(data), size)] + [b""]
    out = b""
    for index, chunk in enumerate(chunks):
        signature = signer.chunk(chunk)
        shown = "0" * 64 if index == break_at else signature
        out += f"{len(chunk):x};chunk-signature={shown}\r\n".encode() + chunk + b"\r\n"
    return out


@pytest.mark.system
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("break_at", "status"), [(None, 200), (1, 403)])
def test_signed_aws_chunked_checks_every_chunk_signature(demo, break_at, status):
    _token, secret = demo.token(demo.alice)
    data = b"0123456789" * 1000
    with live_server() as base:
        request = signed(
            "PUT",
            f"{base}/io/research/signed-chunks.bin",
            secret,
            headers={"Content-Encoding": "aws-chunked", "X-Amz-Decoded-Content-Length": str(len(data))},
            payload="STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
        )
        response = send(request, body=_signed_chunks(request, data, 4096, break_at=break_at))
    assert response.status == status, response.data
    assert Node.objects.filter(name="signed-chunks.bin").exists() == (status == 200)


@pytest.mark.system
@pytest.mark.django_db(transaction=True)
def test_boto3_over_tls_sends_the_unsigned_trailer_form_and_it_is_stored(demo, tmp_path):
    _token, secret = demo.token(demo.alice)
    data = b"over TLS\n" * 5000
    with tls_server(tmp_path) as (base, cert):
        client = s3_client(base, secret, verify=cert)
        seen = []
        client.meta.events.register("before-send", lambda request, **_: seen.append(_headers(request)))
        client.put_object(Bucket="io", Key="research/tls.bin", Body=data)
        assert seen[-1]["x-amz-content-sha256"] == "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
        assert client.get_object(Bucket="io", Key="research/tls.bin")["Body"].read() == data
