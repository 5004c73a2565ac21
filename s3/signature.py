"""AWS Signature Version 4, header form: what an ``Authorization: AWS4-HMAC-SHA256 …`` header claims, and whether
its signature is the one the gateway's secret gives for the request as received.

The arithmetic is botocore's own signer (``S3SigV4Auth``): the request is rebuilt from what arrived (the
method, the path exactly as sent, the query, the headers the client says it signed, the payload hash it
declared) and signed again with ``S3_GATEWAY_SECRET``; the two signatures are compared in constant time. The
secret is the same for every token: the token in the credential is what authenticates, the signature only
guards the request's integrity.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl

from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from django.conf import settings

from s3.errors import S3Error

ALGORITHM = "AWS4-HMAC-SHA256"
#: How far a request's date may be from the server's clock (as S3 allows), so a captured request goes stale.
MAX_SKEW = timedelta(minutes=15)
#: The payload hash forms the gateway takes besides a hex SHA-256 (not the ECDSA ones: their keys are not ours).
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
STREAMING_UNSIGNED_TRAILER = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
SIGNED_STREAMING_TRAILER = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
STREAMING_FORMS = {STREAMING_UNSIGNED_TRAILER, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD", SIGNED_STREAMING_TRAILER}
_HEX_SHA256 = re.compile(r"[0-9a-f]{64}")
_FIELD = re.compile(r"\s*(Credential|SignedHeaders|Signature)\s*=\s*([^,\s]*)\s*")
_DATE_FORMAT = "%Y%m%dT%H%M%SZ"

Environ = dict[str, Any]


@dataclass(frozen=True)
class Claim:
    """What an ``Authorization`` header says: the access key (a PAT), the credential scope's date, region and
    service, the signed header names and the signature."""

    access_key: str
    date: str
    region: str
    service: str
    signed_headers: list[str]
    signature: str
    #: The request's verified ``x-amz-date`` (set by :func:`verify`).
    timestamp: str = ""

    @property
    def scope(self) -> str:
        return f"{self.date}/{self.region}/{self.service}/aws4_request"


def is_sigv4(environ: Environ) -> bool:
    """Whether a request is meant for the gateway: SigV4 in its ``Authorization`` header, or in its query."""
    if environ.get("HTTP_AUTHORIZATION", "").lstrip().startswith(ALGORITHM):
        return True
    return "x-amz-credential=" in environ.get("QUERY_STRING", "").lower()


def is_presigned(environ: Environ) -> bool:
    return "x-amz-credential=" in environ.get("QUERY_STRING", "").lower()


def parse_authorization(header: str) -> Claim:
    """The claim of an ``Authorization: AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…`` header."""
    algorithm, _, rest = header.strip().partition(" ")
    if algorithm != ALGORITHM:
        raise S3Error.authorization("The authorization header is not AWS4-HMAC-SHA256.")
    fields: dict[str, str] = {}
    for part in rest.split(","):
        match = _FIELD.fullmatch(part)
        if match is None:
            raise S3Error.authorization("The authorization header is malformed.")
        fields[match[1]] = match[2]
    if set(fields) != {"Credential", "SignedHeaders", "Signature"}:
        raise S3Error.authorization("The authorization header needs Credential, SignedHeaders and Signature.")
    # The access key comes first and is the only part that could be anything: split from the right.
    credential = fields["Credential"].rsplit("/", 4)
    if len(credential) != 5 or credential[4] != "aws4_request" or not credential[0]:
        raise S3Error.authorization("The credential is not <access key>/<date>/<region>/<service>/aws4_request.")
    access_key, date, region, service, _terminator = credential
    signed = fields["SignedHeaders"].split(";")
    if "host" not in signed or any(name != name.lower() or not name for name in signed):
        raise S3Error.authorization("SignedHeaders must list the host and only lower-case header names.")
    return Claim(
        access_key=access_key,
        date=date,
        region=region,
        service=service,
        signed_headers=signed,
        signature=fields["Signature"],
    )


def payload_hash(environ: Environ) -> str:
    """The request's ``x-amz-content-sha256``: a hex SHA-256, ``UNSIGNED-PAYLOAD`` or a streaming form."""
    declared: str = environ.get("HTTP_X_AMZ_CONTENT_SHA256", "")
    if declared == UNSIGNED_PAYLOAD or declared in STREAMING_FORMS or _HEX_SHA256.fullmatch(declared):
        return declared
    raise S3Error(
        "InvalidArgument", "x-amz-content-sha256 must be a hex SHA-256, UNSIGNED-PAYLOAD or an aws-chunked form."
    )


def _header_value(environ: Environ, name: str) -> str | None:
    if name == "content-type":
        return environ.get("CONTENT_TYPE")
    if name == "content-length":
        return environ.get("CONTENT_LENGTH")
    return environ.get("HTTP_" + name.upper().replace("-", "_"))


def raw_path_and_query(environ: Environ) -> tuple[str, str]:
    """The request target's path exactly as the client sent it (still percent-encoded), and its query."""
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if raw:
        path, _, query = raw.partition("?")
        if path.startswith(("http://", "https://")):  # an absolute-form target
            path = "/" + path.split("/", 3)[3] if path.count("/") >= 3 else "/"
        return path, query
    return environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", ""), environ.get("QUERY_STRING", "")


def request_time(environ: Environ, claim: Claim, now: datetime) -> str:
    """The request's ``x-amz-date`` (signed, in the credential's day, within :data:`MAX_SKEW` of ``now``)."""
    stamp: str = environ.get("HTTP_X_AMZ_DATE", "")
    try:
        when = datetime.strptime(stamp, _DATE_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        raise S3Error.authorization("The request needs an x-amz-date header (yyyymmddThhmmssZ).") from None
    if "x-amz-date" not in claim.signed_headers or stamp[:8] != claim.date:
        raise S3Error.authorization("x-amz-date must be signed and fall on the credential's date.")
    if abs(now - when) > MAX_SKEW:
        raise S3Error("RequestTimeTooSkewed", "The request's time is too far from the server's.", 403)
    return stamp


def _signer(claim: Claim, secret: str) -> S3SigV4Auth:
    return S3SigV4Auth(Credentials(claim.access_key, secret), claim.service, claim.region)


def expected_signature(environ: Environ, claim: Claim, timestamp: str, secret: str) -> str:
    """The signature botocore computes for this request as received, with ``secret``."""
    path, query = raw_path_and_query(environ)
    headers: dict[str, str] = {}
    for name in claim.signed_headers:
        value = _header_value(environ, name)
        if value is None:
            raise S3Error.authorization(f"The signed header {name!r} is missing from the request.")
        headers[name] = value
    scheme = environ.get("wsgi.url_scheme", "http")
    request = AWSRequest(
        method=environ.get("REQUEST_METHOD", "GET"),
        url=f"{scheme}://{headers['host']}{path}",
        headers=headers,
        params=parse_qsl(query, keep_blank_values=True),
    )
    request.context["timestamp"] = timestamp
    signer = _signer(claim, secret)
    canonical = signer.canonical_request(request)
    signed: str = signer.signature(signer.string_to_sign(request, canonical), request)
    return signed


def verify(environ: Environ, *, now: datetime | None = None) -> Claim:
    """The request's claim, once its signature is the gateway's (SignatureDoesNotMatch otherwise)."""
    claim = parse_authorization(environ.get("HTTP_AUTHORIZATION", ""))
    payload_hash(environ)
    if "x-amz-content-sha256" not in claim.signed_headers:
        raise S3Error.authorization("x-amz-content-sha256 must be signed.")
    timestamp = request_time(environ, claim, now or datetime.now(UTC))
    expected = expected_signature(environ, claim, timestamp, settings.S3_GATEWAY_SECRET)
    if not hmac.compare_digest(expected.encode(), claim.signature.encode()):
        raise S3Error(
            "SignatureDoesNotMatch",
            "The request signature does not match: sign with the gateway's secret key.",
            403,
        )
    return replace(claim, timestamp=timestamp)


_EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


class ChunkSignatures:
    """The chain of chunk signatures of a signed ``aws-chunked`` body (``STREAMING-AWS4-HMAC-SHA256-PAYLOAD``):
    each chunk is signed over the previous chunk's signature (the first over the request's) and its bytes'
    SHA-256, with the request's signing key. ``check`` raises SignatureDoesNotMatch for a chunk that breaks it;
    ``check_trailer`` for trailers (``STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER``) whose signature, over the last
    chunk's and the trailers' SHA-256, is not the gateway's or is missing."""

    def __init__(self, claim: Claim) -> None:
        self._claim = claim
        self._previous = claim.signature
        self._signer = _signer(claim, settings.S3_GATEWAY_SECRET)
        self._request = AWSRequest(method="PUT", url="http://gateway/")
        self._request.context["timestamp"] = claim.timestamp

    def check(self, signature: str, sha256_hex: str) -> None:
        to_sign = "\n".join(
            [
                "AWS4-HMAC-SHA256-PAYLOAD",
                self._claim.timestamp,
                self._claim.scope,
                self._previous,
                _EMPTY_SHA256,
                sha256_hex,
            ]
        )
        expected: str = self._signer.signature(to_sign, self._request)
        if not hmac.compare_digest(expected.encode(), signature.encode()):
            raise S3Error("SignatureDoesNotMatch", "A chunk's signature does not match.", 403)
        self._previous = signature

    def check_trailer(self, canonical: str, signature: str | None) -> None:
        """``canonical``: the trailers as signed, ``name:value\n`` each, in the order sent."""
        to_sign = "\n".join(
            [
                "AWS4-HMAC-SHA256-TRAILER",
                self._claim.timestamp,
                self._claim.scope,
                self._previous,
                hashlib.sha256(canonical.encode("latin-1")).hexdigest(),
            ]
        )
        expected: str = self._signer.signature(to_sign, self._request)
        if signature is None or not hmac.compare_digest(expected.encode(), signature.encode()):
            raise S3Error("SignatureDoesNotMatch", "The trailer's signature does not match, or it has none.", 403)
