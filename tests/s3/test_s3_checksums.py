"""Every ``x-amz-checksum-*`` a client may send is checked on upload, in a header or an aws-chunked trailer: boto3
sending each of S3's algorithms, over HTTP (a header) and over TLS (a trailer); a wrong value refused with
BadDigest and nothing stored. And the signed trailer of ``STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER``: its
``x-amz-trailer-signature`` is checked too."""

from __future__ import annotations

import base64
import hashlib

import pytest
from botocore import httpchecksum
from botocore.awsrequest import AWSRequest
from botocore.exceptions import ClientError

from files.models import Node
from tests.support.s3_support import ChunkSigner, aws_chunked, error_code, s3_client, send, signed, tls_server

pytestmark = [pytest.mark.system, pytest.mark.django_db(transaction=True)]

#: S3's checksum algorithms (its ChecksumAlgorithm), each with botocore's own implementation of it: the values the
#: tests expect come from botocore, not from the gateway's code.
ALGORITHMS = {
    "CRC32": httpchecksum.CrtCrc32Checksum,
    "CRC32C": httpchecksum.CrtCrc32cChecksum,
    "CRC64NVME": httpchecksum.CrtCrc64NvmeChecksum,
    "SHA1": httpchecksum.Sha1Checksum,
    "SHA256": httpchecksum.Sha256Checksum,
    "SHA512": httpchecksum.Sha512Checksum,
    "XXHASH64": httpchecksum.CrtXxhash64Checksum,
    "XXHASH3": httpchecksum.CrtXxhash3Checksum,
    "XXHASH128": httpchecksum.CrtXxhash128Checksum,
}
DATA = b"checked on the way in\n" * 4000


def _checksum(algorithm: str, data: bytes) -> str:
    if algorithm == "MD5":  # botocore sends it when given, it does not compute it
        return base64.b64encode(hashlib.md5(data, usedforsecurity=False).digest()).decode()
    checksum = ALGORITHMS[algorithm]()
    checksum.update(data)
    return str(checksum.b64digest())


def _sent(client) -> list[dict[str, str]]:
    """Each request's headers as sent, by lower-case name."""
    seen: list[dict[str, str]] = []

    def record(request, **_):
        seen.append({name.lower(): value.decode() if isinstance(value, bytes) else value
                     for name, value in request.headers.items()})  # fmt: skip

    client.meta.events.register("before-send", record)
    return seen


@pytest.mark.parametrize("algorithm", list(ALGORITHMS))
def test_boto3_over_http_sends_each_checksum_in_a_header_and_it_is_stored(demo, server, algorithm):
    _token, secret = demo.token(demo.alice)
    client = s3_client(server, secret)
    seen = _sent(client)
    key = f"research/{algorithm}.bin"
    client.put_object(Bucket="io", Key=key, Body=DATA, ChecksumAlgorithm=algorithm)
    header = f"x-amz-checksum-{algorithm.lower()}"
    assert header in seen[-1] or seen[-1].get("x-amz-trailer") == header
    assert client.get_object(Bucket="io", Key=key)["Body"].read() == DATA


@pytest.mark.parametrize("algorithm", list(ALGORITHMS))
def test_boto3_over_tls_sends_each_checksum_in_a_trailer_and_it_is_stored(demo, tmp_path, algorithm):
    _token, secret = demo.token(demo.alice)
    with tls_server(tmp_path) as (base, cert):
        client = s3_client(base, secret, verify=cert)
        seen = _sent(client)
        client.put_object(Bucket="io", Key="research/tls.bin", Body=DATA, ChecksumAlgorithm=algorithm)
        assert seen[-1]["x-amz-trailer"] == f"x-amz-checksum-{algorithm.lower()}"
        assert client.get_object(Bucket="io", Key="research/tls.bin")["Body"].read() == DATA


@pytest.mark.parametrize("algorithm", [*ALGORITHMS, "MD5"])
def test_a_wrong_checksum_header_is_refused_and_nothing_stored(demo, server, algorithm):
    _token, secret = demo.token(demo.alice)
    client = s3_client(server, secret)
    wrong = _checksum(algorithm, b"other bytes")
    with pytest.raises(ClientError) as refused:
        client.put_object(Bucket="io", Key="research/wrong.bin", Body=DATA, **{f"Checksum{algorithm}": wrong})
    assert error_code(refused) == "BadDigest"
    assert not Node.objects.filter(name="wrong.bin").exists()
    # The right value is taken.
    client.put_object(
        Bucket="io", Key="research/right.bin", Body=DATA, **{f"Checksum{algorithm}": _checksum(algorithm, DATA)}
    )
    assert Node.objects.get(name="right.bin").size == len(DATA)


def _trailer_put(base: str, secret: str, name: str, trailer: str, algorithm: str) -> tuple[int, bytes]:
    body = aws_chunked(DATA, 8192, trailer=trailer)
    request = signed(
        "PUT",
        f"{base}/io/research/{name}",
        secret,
        body=body,
        headers={
            "Content-Encoding": "aws-chunked",
            "X-Amz-Decoded-Content-Length": str(len(DATA)),
            "X-Amz-Trailer": f"x-amz-checksum-{algorithm.lower()}",
        },
        payload="STREAMING-UNSIGNED-PAYLOAD-TRAILER",
    )
    response = send(request)
    return response.status, response.data


@pytest.mark.parametrize("algorithm", [*ALGORITHMS, "MD5"])
def test_each_trailer_checksum_is_checked(demo, server, algorithm):
    _token, secret = demo.token(demo.alice)
    header = f"x-amz-checksum-{algorithm.lower()}"
    status, answer = _trailer_put(server, secret, "wrong.bin", f"{header}:{_checksum(algorithm, b'x')}", algorithm)
    assert (status, b"<Code>BadDigest</Code>" in answer) == (400, True)
    assert not Node.objects.filter(name="wrong.bin").exists()
    status, answer = _trailer_put(server, secret, "right.bin", f"{header}:{_checksum(algorithm, DATA)}", algorithm)
    assert status == 200, answer
    assert Node.objects.get(name="right.bin").md5 == hashlib.md5(DATA, usedforsecurity=False).hexdigest()


def test_a_trailer_that_is_no_checksum_is_refused(demo, server):
    _token, secret = demo.token(demo.alice)
    status, answer = _trailer_put(server, secret, "odd.bin", "x-amz-checksum-crc99:AAAAAA==", "CRC99")
    assert (status, b"<Code>InvalidRequest</Code>" in answer) == (400, True)
    assert not Node.objects.filter(name="odd.bin").exists()


# --- Signed trailers ---------------------------------------------------------------------------------------------


def _signed_trailer_body(request: AWSRequest, data: bytes, trailer: str, *, trailer_signature: str | None) -> bytes:
    """``data`` as a ``STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER`` body, built by hand with botocore's signer:
    each chunk signed over the previous one, then the trailer (``name:value``) and its signature over the last
    chunk's. ``trailer_signature``: "right", another value to send, or None for no signature line."""
    signer = ChunkSigner(request)
    out = b""
    for chunk in [data[start : start + 4096] for start in range(0, len(data), 4096)] + [b""]:
        signature = signer.chunk(chunk)
        out += f"{len(chunk):x};chunk-signature={signature}\r\n".encode() + (chunk + b"\r\n" if chunk else b"")
    out += trailer.encode() + b"\r\n"  # right after the last chunk's line
    if trailer_signature is not None:
        right = signer.trailer(f"{trailer}\n")
        out += f"x-amz-trailer-signature:{right if trailer_signature == 'right' else trailer_signature}\r\n".encode()
    return out + b"\r\n"


@pytest.mark.parametrize(
    ("trailer_signature", "status"),
    [("right", 200), ("0" * 64, 403), (None, 403), ("tampered", 403)],
)
def test_a_signed_trailer_is_checked(demo, server, trailer_signature, status):
    _token, secret = demo.token(demo.alice)
    request = signed(
        "PUT",
        f"{server}/io/research/signed-trailer.bin",
        secret,
        headers={
            "Content-Encoding": "aws-chunked",
            "X-Amz-Decoded-Content-Length": str(len(DATA)),
            "X-Amz-Trailer": "x-amz-checksum-crc32c",
        },
        payload="STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER",
    )
    trailer = f"x-amz-checksum-crc32c:{_checksum('CRC32C', DATA)}"
    if trailer_signature == "tampered":
        # The right signature of the trailer as signed, sent with another (correct-looking) checksum value.
        body = _signed_trailer_body(request, DATA, trailer, trailer_signature="right")
        body = body.replace(trailer.encode(), f"x-amz-checksum-crc32c:{_checksum('CRC32C', DATA + b'!')}".encode())
    else:
        body = _signed_trailer_body(request, DATA, trailer, trailer_signature=trailer_signature)
    response = send(request, body=body)
    assert response.status == status, response.data
    if status == 403:
        assert b"<Code>SignatureDoesNotMatch</Code>" in response.data
    assert Node.objects.filter(name="signed-trailer.bin").exists() == (status == 200)


def test_the_checksum_of_a_signed_trailer_is_checked_too(demo, server):
    _token, secret = demo.token(demo.alice)
    request = signed(
        "PUT",
        f"{server}/io/research/signed-wrong.bin",
        secret,
        headers={
            "Content-Encoding": "aws-chunked",
            "X-Amz-Decoded-Content-Length": str(len(DATA)),
            "X-Amz-Trailer": "x-amz-checksum-sha256",
        },
        payload="STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER",
    )
    wrong = base64.b64encode(hashlib.sha256(b"other").digest()).decode()
    body = _signed_trailer_body(request, DATA, f"x-amz-checksum-sha256:{wrong}", trailer_signature="right")
    response = send(request, body=body)
    assert (response.status, b"<Code>BadDigest</Code>" in response.data) == (400, True)
    assert not Node.objects.filter(name="signed-wrong.bin").exists()
