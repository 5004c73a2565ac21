"""Helpers for the S3 gateway's tests: boto3 clients whose access key is a PAT, against a live server."""

from __future__ import annotations

import base64
import hashlib
import http.client
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

import boto3
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

from tests.support.dav_support import closing_connections
from tests.support.servers import free_port

SECRET = "gatewaysecret"


def s3_client(
    base: str,
    access_key: str,
    *,
    secret: str = SECRET,
    region: str = "us-east-1",
    verify: str | None = None,
    **config: object,
):
    """A boto3 S3 client for ``base`` (path style, bucket ``io``), failing fast rather than retrying; ``verify``:
    the certificate to trust over TLS."""
    config.setdefault("s3", {"addressing_style": "path"})
    return boto3.client(
        "s3",
        endpoint_url=base,
        verify=verify,
        aws_access_key_id=access_key,
        aws_secret_access_key=secret,
        region_name=region,
        config=Config(retries={"max_attempts": 1, "mode": "standard"}, **config),
    )


def error_code(excinfo) -> str:
    """The S3 error code of a ``botocore.exceptions.ClientError`` caught by ``pytest.raises``."""
    return str(excinfo.value.response["Error"]["Code"])


def md5_hex(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def md5_base64(data: bytes) -> str:
    """A ``Content-MD5`` header's value."""
    return base64.b64encode(hashlib.md5(data, usedforsecurity=False).digest()).decode()


def signed(
    method: str,
    url: str,
    access_key: str,
    *,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
    secret: str = SECRET,
    region: str = "us-east-1",
    payload: str | None = None,
) -> AWSRequest:
    """A request signed by botocore's own S3 signer (header form). ``payload``: the ``x-amz-content-sha256`` to
    declare instead of the body's SHA-256 (``UNSIGNED-PAYLOAD``, a streaming form)."""
    request = AWSRequest(method=method, url=url, data=body, headers=headers or {})
    if payload == "STREAMING-UNSIGNED-PAYLOAD-TRAILER":
        request.context["checksum"] = {"request_algorithm": {"in": "trailer", "name": "x-amz-checksum-crc32"}}
    elif payload == "UNSIGNED-PAYLOAD":
        request.context["client_config"] = Config(s3={"payload_signing_enabled": False})
    signer = S3SigV4Auth(Credentials(access_key, secret), "s3", region)
    if payload is not None and payload.startswith("STREAMING-AWS4-HMAC-SHA256"):
        # botocore does not send this form itself; its signer signs the headers, the chunks are signed below.
        signer.payload = lambda _request: payload
    signer.add_auth(request)
    return request


def environ_of(request: AWSRequest) -> dict[str, object]:
    """The WSGI environ a server would hand over for ``request`` (for the signature's unit tests)."""
    parts = urlsplit(request.url)
    environ: dict[str, object] = {
        "REQUEST_METHOD": request.method,
        "PATH_INFO": unquote(parts.path),
        "RAW_URI": parts.path + (f"?{parts.query}" if parts.query else ""),
        "QUERY_STRING": parts.query,
        "wsgi.url_scheme": parts.scheme,
        "HTTP_HOST": parts.netloc,
    }
    for name, value in request.headers.items():
        key = name.upper().replace("-", "_")
        environ[key if key in {"CONTENT_TYPE", "CONTENT_LENGTH"} else f"HTTP_{key}"] = value
    return environ


@dataclass(frozen=True)
class Answer:
    status: int
    data: bytes


def plain(url: str, method: str = "GET", body: bytes | None = None, headers: dict[str, str] | None = None) -> Answer:
    """One request to ``url`` as it is, signed or not."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=30)
    connection.request(
        method, parts.path + (f"?{parts.query}" if parts.query else ""), body=body, headers=headers or {}
    )
    response = connection.getresponse()
    answer = Answer(status=response.status, data=response.read())
    connection.close()
    return answer


def send(request: AWSRequest, body: bytes | None = None) -> Answer:
    """Send a signed request as it is (``body``: another body than the one signed)."""
    return plain(request.url, request.method, request.body if body is None else body, dict(request.headers.items()))


def aws_chunked(data: bytes, chunk_size: int, *, trailer: str = "") -> bytes:
    """``data`` framed as an unsigned ``aws-chunked`` body, with a trailer line (``name:value``) if given."""
    out = b""
    for start in range(0, len(data), chunk_size):
        chunk = data[start : start + chunk_size]
        out += f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
    out += b"0\r\n"
    if trailer:
        out += trailer.encode() + b"\r\n"
    return out + b"\r\n"


class ChunkSigner:
    """Signs the chunks and the trailer of a signed ``aws-chunked`` body by hand, with botocore's signer, each over
    the signature before it (the first over ``request``'s own): what an SDK does, for bodies no SDK would send."""

    def __init__(self, request: AWSRequest) -> None:
        self._signer = S3SigV4Auth(Credentials("unused", SECRET), "s3", "us-east-1")
        self._request = request
        self._timestamp: str = request.headers["X-Amz-Date"]
        request.context["timestamp"] = self._timestamp
        self._scope = f"{self._timestamp[:8]}/us-east-1/s3/aws4_request"
        self.previous: str = request.headers["Authorization"].rsplit("Signature=", 1)[1]

    def _sign(self, kind: str, *hashes: str) -> str:
        to_sign = "\n".join([kind, self._timestamp, self._scope, self.previous, *hashes])
        signature: str = self._signer.signature(to_sign, self._request)
        return signature

    def chunk(self, data: bytes) -> str:
        """The signature of the next chunk, ``data``."""
        self.previous = self._sign("AWS4-HMAC-SHA256-PAYLOAD", EMPTY_SHA256, hashlib.sha256(data).hexdigest())
        return self.previous

    def trailer(self, canonical: str) -> str:
        """The signature of the trailers, as signed: ``name:value\n`` each."""
        return self._sign("AWS4-HMAC-SHA256-TRAILER", hashlib.sha256(canonical.encode()).hexdigest())


EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


@contextmanager
def tls_server(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """The project's WSGI application over TLS on 127.0.0.1, with a self-signed certificate: (base URL, the
    certificate's path for clients to trust)."""
    from cheroot import wsgi
    from cheroot.ssl.builtin import BuiltinSSLAdapter

    from cellsadmin.wsgi import application

    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    port = free_port()
    server = wsgi.Server(("127.0.0.1", port), closing_connections(application), numthreads=1)
    server.ssl_adapter = BuiltinSSLAdapter(str(cert), str(key))
    server.prepare()
    thread = threading.Thread(target=server.serve, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{port}", str(cert)
    finally:
        server.stop()
        thread.join(timeout=10)
