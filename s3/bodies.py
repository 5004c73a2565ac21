"""The body of a PutObject as the tree stores it: ``aws-chunked`` framing taken off, and every digest the client
sent (``x-amz-content-sha256``, ``Content-MD5``, ``x-amz-checksum-*`` in a header or a trailer: CRC32, CRC32C,
CRC64NVME, SHA1, SHA256 and S3's newer SHA512, MD5 and xxHash ones) checked as the bytes go by; in the signed
streaming forms, every chunk's signature and the trailer's too.

A digest is known to be wrong only once the last byte has been read; the read that finds the end raises
instead of returning it, so the write in ``files.services`` is abandoned and its blob removed, as for a body
that broke off.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import zlib
from collections.abc import Callable
from typing import Any, Protocol

from awscrt import checksums
from defusedxml import ElementTree
from defusedxml.common import DefusedXmlException

from files.blobs import CHUNK_SIZE, Readable
from files.errors import IncompleteUpload
from files.uploads import DeclaredBody, declared_length
from s3.errors import S3Error
from s3.signature import SIGNED_STREAMING_TRAILER, ChunkSignatures, Claim

#: Longest chunk header or trailer line taken (a chunk's size, its signature, one checksum).
MAX_LINE = 4096
Environ = dict[str, Any]


class Digest(Protocol):
    def update(self, data: bytes, /) -> None: ...

    def digest(self) -> bytes: ...


class _Crc:
    """A CRC as botocore sends it: ``function(data, previous) -> int`` (zlib's CRC32, awscrt's CRC32C and
    CRC64NVME, the implementations botocore itself uses), as ``width`` big-endian bytes."""

    def __init__(self, function: Callable[[bytes, int], int], width: int) -> None:
        self._function = function
        self._width = width
        self.value = 0

    def update(self, data: bytes, /) -> None:
        self.value = self._function(data, self.value)

    def digest(self) -> bytes:
        return self.value.to_bytes(self._width, "big")


class _XXHash:
    """One of awscrt's xxHash digests (XXHASH64, XXHASH3, XXHASH128), as botocore computes them."""

    def __init__(self, make: Callable[[], Any]) -> None:
        self._hash = make()

    def update(self, data: bytes, /) -> None:
        self._hash.update(data)

    def digest(self) -> bytes:
        return bytes(self._hash.finalize())


#: The ``x-amz-checksum-*`` algorithms a client may send, all checked: every one of S3's ``ChecksumAlgorithm``.
CHECKSUMS: dict[str, Callable[[], Digest]] = {
    "crc32": lambda: _Crc(zlib.crc32, 4),
    "crc32c": lambda: _Crc(checksums.crc32c, 4),
    "crc64nvme": lambda: _Crc(checksums.crc64nvme, 8),
    "sha1": lambda: hashlib.sha1(usedforsecurity=False),
    "sha256": hashlib.sha256,
    "sha512": hashlib.sha512,
    "md5": lambda: hashlib.md5(usedforsecurity=False),
    "xxhash64": lambda: _XXHash(checksums.XXHash.new_xxhash64),
    "xxhash3": lambda: _XXHash(checksums.XXHash.new_xxhash3_64),
    "xxhash128": lambda: _XXHash(checksums.XXHash.new_xxhash3_128),
}


class AwsChunked:
    """The payload of an ``aws-chunked`` body: ``<hex size>[;chunk-signature=…]\\r\\n<bytes>\\r\\n`` …, a chunk of
    size 0, then trailer lines (``name:value``) up to an empty line or the end. ``trailers`` holds those once
    the end has been read; ``on_chunk`` sees each chunk's signature and its bytes' SHA-256 (signed streaming),
    ``on_trailers`` the trailers as signed (``name:value\n`` each) and their ``x-amz-trailer-signature`` (None
    if there is none) once they have been read."""

    def __init__(
        self,
        stream: Readable,
        on_chunk: Callable[[str, str], None] | None = None,
        on_trailers: Callable[[str, str | None], None] | None = None,
    ) -> None:
        self._stream = stream
        self._buffer = b""
        self._left = 0  # bytes of the current chunk still to hand over
        self._done = False
        self._on_chunk = on_chunk
        self._on_trailers = on_trailers
        self._chunk = hashlib.sha256()
        self._signature = ""
        self.trailers: dict[str, str] = {}

    def _more(self) -> bool:
        data = self._stream.read(CHUNK_SIZE)
        self._buffer += data
        return bool(data)

    def _line(self) -> bytes | None:
        while b"\r\n" not in self._buffer:
            if len(self._buffer) > MAX_LINE:
                raise S3Error("IncompleteBody", "An aws-chunked line is too long.")
            if not self._more():
                if self._buffer:
                    line, self._buffer = self._buffer, b""
                    return line
                return None
        line, _, self._buffer = self._buffer.partition(b"\r\n")
        return line

    def _take(self, size: int) -> bytes:
        while len(self._buffer) < size and self._more():
            pass
        data, self._buffer = self._buffer[:size], self._buffer[size:]
        return data

    def _next_chunk(self) -> None:
        line = self._line()
        if line is None:
            raise IncompleteUpload("The aws-chunked body ended before its last chunk.")
        size_text, _, extension = line.decode("latin-1").partition(";")
        try:
            size = int(size_text.strip(), 16)
        except ValueError:
            raise S3Error("IncompleteBody", "An aws-chunked chunk size is not a hex number.") from None
        if size < 0:
            raise S3Error("IncompleteBody", "An aws-chunked chunk size is negative.")
        name, _, value = extension.partition("=")
        self._signature = value.strip() if name.strip() == "chunk-signature" else ""
        if size == 0:
            self._finish_chunk()
            self._read_trailers()
            self._done = True
        self._left = size

    def _finish_chunk(self) -> None:
        if self._on_chunk is not None:
            self._on_chunk(self._signature, self._chunk.hexdigest())
            self._chunk = hashlib.sha256()

    def _read_trailers(self) -> None:
        canonical, signature = "", None
        while (line := self._line()) is not None and line.strip():
            name, colon, value = line.decode("latin-1").partition(":")
            if not colon:
                break
            name, value = name.strip().lower(), value.strip()
            if name == "x-amz-trailer-signature":
                signature = value
            else:
                self.trailers[name] = value
                canonical += f"{name}:{value}\n"
        if self._on_trailers is not None:
            self._on_trailers(canonical, signature)

    def read(self, size: int = -1, /) -> bytes:
        while not self._done and self._left == 0:
            self._next_chunk()
        if self._done:
            return b""
        wanted = self._left if size < 0 else min(size, self._left)
        data = self._take(wanted)
        if not data:
            raise IncompleteUpload("The aws-chunked body ended inside a chunk.")
        self._left -= len(data)
        if self._on_chunk is not None:
            self._chunk.update(data)
        if self._left == 0 and self._take(2) != b"\r\n":
            raise S3Error("IncompleteBody", "An aws-chunked chunk does not end with CRLF.")
        if self._left == 0:
            self._finish_chunk()
        return data


class Checked:
    """``stream``, with the digests to check once it ends: each fed every byte, then compared with what the
    request gave (a header, or a trailer known only once the last chunk has been read)."""

    def __init__(self, stream: Readable) -> None:
        self._stream = stream
        self._checks: list[tuple[Digest, Callable[[], bytes], str]] = []

    def expect(self, digest: Digest, expected: Callable[[], bytes], code: str) -> None:
        self._checks.append((digest, expected, code))

    def read(self, size: int = -1, /) -> bytes:
        data = self._stream.read(size)
        if data:
            for digest, _expected, _code in self._checks:
                digest.update(data)
            return data
        for digest, expected, code in self._checks:
            if digest.digest() != expected():
                raise S3Error(code, "The content does not match the digest the request gave for it.")
        return b""


def _base64(value: str, header: str) -> bytes:
    try:
        return base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise S3Error("InvalidDigest", f"{header} is not base64.") from None


def _given(value: bytes) -> Callable[[], bytes]:
    return lambda: value


def checked_body(environ: Environ, stream: Readable, *, content_sha256: str, claim: Claim | None = None) -> Checked:
    """The object's bytes from a request ``stream`` (its declared body), with every digest it came with checked;
    in the signed streaming forms, every chunk's signature and the trailer's against ``claim`` (the request's
    verified signature)."""
    chunked: AwsChunked | None = None
    if content_sha256.startswith("STREAMING-"):
        signatures = None
        if content_sha256.startswith("STREAMING-AWS4-HMAC-SHA256"):
            if claim is None:
                raise S3Error("NotImplemented", "A signed aws-chunked body is not taken here.", 501)
            signatures = ChunkSignatures(claim)
        chunked = AwsChunked(
            stream,
            signatures.check if signatures is not None else None,
            signatures.check_trailer if signatures is not None and content_sha256 == SIGNED_STREAMING_TRAILER else None,
        )
        stream = chunked
    checked = Checked(stream)
    if len(content_sha256) == 64:
        checked.expect(hashlib.sha256(), _given(bytes.fromhex(content_sha256)), "XAmzContentSHA256Mismatch")
    md5 = environ.get("HTTP_CONTENT_MD5")
    if md5 is not None:
        checked.expect(hashlib.md5(usedforsecurity=False), _given(_base64(md5, "Content-MD5")), "BadDigest")
    announced = environ.get("HTTP_X_AMZ_SDK_CHECKSUM_ALGORITHM")
    if announced is not None and announced.strip().lower() not in CHECKSUMS:
        raise S3Error("InvalidRequest", f"The checksum algorithm {announced!r} is not one S3 knows.")
    for algorithm, make in CHECKSUMS.items():
        value = environ.get(f"HTTP_X_AMZ_CHECKSUM_{algorithm.upper()}")
        if value is not None:
            checked.expect(make(), _given(_base64(value, f"x-amz-checksum-{algorithm}")), "BadDigest")
    trailer = environ.get("HTTP_X_AMZ_TRAILER", "").strip().lower()
    algorithm = trailer.removeprefix("x-amz-checksum-")
    if chunked is not None and trailer:
        if not trailer.startswith("x-amz-checksum-") or algorithm not in CHECKSUMS:
            raise S3Error("InvalidRequest", f"The trailer {trailer!r} is not a checksum S3 knows.")
        body = chunked

        def from_trailer() -> bytes:
            value = body.trailers.get(trailer)
            if value is None:
                raise S3Error("MalformedTrailerError", f"The body lacks its announced {trailer} trailer.")
            return _base64(value, trailer)

        checked.expect(CHECKSUMS[algorithm](), from_trailer, "BadDigest")
    return checked


def xml_request_body(environ: dict[str, Any], limit: int, claim: Claim) -> Any:
    """The root element of a request's XML body (CompleteMultipartUpload, DeleteObjects), read whole but never
    past ``limit`` bytes, checked like any body, parsed without entity expansion; MalformedXML otherwise."""
    length = declared_length(environ)
    if length is not None and length > limit:
        raise S3Error("MalformedXML", "The request body is too long.")
    content_sha256 = environ.get("HTTP_X_AMZ_CONTENT_SHA256", "")
    stream = DeclaredBody(environ["wsgi.input"], length)
    body = checked_body(environ, stream, content_sha256=content_sha256, claim=claim)
    data = b"".join(iter(lambda: body.read(64 * 1024), b""))
    if len(data) > limit:
        raise S3Error("MalformedXML", "The request body is too long.")
    try:
        return ElementTree.fromstring(data)
    except (ElementTree.ParseError, DefusedXmlException):
        raise S3Error("MalformedXML", "The XML you provided was not well-formed.") from None
