"""Multipart uploads: CreateMultipartUpload, UploadPart, CompleteMultipartUpload, AbortMultipartUpload, ListParts.

An upload belongs to the user who started it and to its key; its parts are kept by ``files.partial_uploads``
until it is completed or aborted. Whether the principal may write the key is asked when the upload starts and
again when it completes (a token's scopes or grants may have changed meanwhile). The completed file's ETag is
S3's for a multipart object: the MD5 of the parts' MD5s, then ``-`` and the number of parts.
"""

from __future__ import annotations

import hashlib
import uuid

from django.conf import settings

from files import partial_uploads, services
from files.locks import write_guard
from files.models import Node, PartialUpload, UploadPart
from files.uploads import DeclaredBody, declared_length
from s3 import listing, responses
from s3.bodies import checked_body, xml_request_body
from s3.errors import S3Error
from s3.operations import BUCKET, S3Request, client_mtime, writable_target
from s3.responses import Response, element

#: How long a CompleteMultipartUpload body may be (10,000 parts of about 100 bytes each).
MAX_COMPLETE_BODY = 2 * 1024 * 1024


def _target(request: S3Request) -> str:
    public = listing.public_path(request.key)
    if public is None or request.key.endswith("/"):
        raise S3Error("InvalidArgument", "This key cannot name a file.")
    return public


def _upload(request: S3Request) -> PartialUpload:
    """The principal's upload the request names, for this key; NoSuchUpload otherwise."""
    try:
        upload_id = uuid.UUID(request.query.get("uploadId", ""))
    except ValueError:
        raise S3Error("NoSuchUpload", "The specified upload does not exist.", 404) from None
    upload = PartialUpload.objects.filter(
        uuid=upload_id, owner=request.rights.user, target=listing.public_path(request.key) or ""
    ).first()
    if upload is None:
        raise S3Error("NoSuchUpload", "The specified upload does not exist.", 404)
    return upload


def create(request: S3Request) -> Response:
    public = _target(request)
    writable_target(request, public)
    content_type = request.environ.get("CONTENT_TYPE", "")
    if content_type in {"binary/octet-stream", "application/octet-stream"}:
        content_type = ""
    upload = PartialUpload.objects.create(owner=request.rights.user, target=public, content_type=content_type[:255])
    return responses.xml(
        "InitiateMultipartUploadResult",
        element("Bucket", BUCKET) + element("Key", request.key) + element("UploadId", upload.uuid),
    )


def upload_part(request: S3Request) -> Response:
    upload = _upload(request)
    try:
        number = int(request.query.get("partNumber", ""))
    except ValueError:
        raise S3Error("InvalidArgument", "partNumber must be a number from 1 to 10000.") from None
    if not 1 <= number <= partial_uploads.MAX_PARTS:
        raise S3Error("InvalidArgument", "partNumber must be a number from 1 to 10000.")
    environ = request.environ
    content_sha256 = environ.get("HTTP_X_AMZ_CONTENT_SHA256", "")
    body = checked_body(
        environ,
        DeclaredBody(environ["wsgi.input"], declared_length(environ)),
        content_sha256=content_sha256,
        claim=request.claim,
    )
    part = partial_uploads.store_part(upload=upload, number=number, stream=body, max_size=settings.MAX_UPLOAD_SIZE)
    return Response(headers={"ETag": f'"{part.md5}"'})


def abort(request: S3Request) -> Response:
    partial_uploads.discard(_upload(request))
    return Response(status=204)


def list_parts(request: S3Request) -> Response:
    upload = _upload(request)
    parts = "".join(
        "<Part>"
        + element("PartNumber", part.number)
        + element("ETag", f'"{part.md5}"')
        + element("Size", part.size)
        + "</Part>"
        for part in upload.parts.order_by("number")
    )
    return responses.xml(
        "ListPartsResult",
        element("Bucket", BUCKET)
        + element("Key", request.key)
        + element("UploadId", upload.uuid)
        + element("IsTruncated", "false")
        + parts,
    )


def _named_parts(request: S3Request) -> list[tuple[int, str]]:
    """The (part number, ETag) list of a CompleteMultipartUpload body, in ascending order."""
    root = xml_request_body(request.environ, MAX_COMPLETE_BODY, request.claim)
    named: list[tuple[int, str]] = []
    for item in root:
        if item.tag.rpartition("}")[2] != "Part":
            continue
        fields = {child.tag.rpartition("}")[2]: (child.text or "").strip() for child in item}
        try:
            named.append((int(fields["PartNumber"]), fields.get("ETag", "").strip('"')))
        except (KeyError, ValueError):
            raise S3Error("MalformedXML", "Each Part needs a PartNumber.") from None
    if not named:
        raise S3Error("MalformedXML", "Name at least one part.")
    if [number for number, _etag in named] != sorted({number for number, _etag in named}):
        raise S3Error("InvalidPartOrder", "The parts must be listed in ascending order, each once.")
    return named


def complete(request: S3Request) -> Response:
    upload = _upload(request)
    named = _named_parts(request)
    stored = {part.number: part for part in UploadPart.objects.filter(upload=upload)}
    parts: list[UploadPart] = []
    for number, etag in named:
        part = stored.get(number)
        if part is None or (etag and etag != part.md5):
            raise S3Error("InvalidPart", f"Part {number} was not uploaded, or its ETag does not match.")
        parts.append(part)
    parent, name, existing = writable_target(request, upload.target)
    guard = write_guard.upload_guard(write_guard.member_url(parent, name), None)
    guard.check_locks(exists=existing is not None)
    assembled = partial_uploads.Assembled(parts)
    try:
        node, _created = services.write_file(
            parent=parent,
            name=name,
            stream=assembled,
            content_type=upload.content_type,
            precondition=guard,
            mtime=client_mtime(request),
            found=existing is not None,
        )
    finally:
        assembled.close()
    partial_uploads.discard(upload)
    digest = hashlib.md5(b"".join(bytes.fromhex(part.md5) for part in parts), usedforsecurity=False)
    multipart_md5 = f"{digest.hexdigest()}-{len(parts)}"
    # Only while the file still has these bytes (no other write since).
    Node.objects.filter(pk=node.pk, blob=node.blob).update(md5=multipart_md5)
    return responses.xml(
        "CompleteMultipartUploadResult",
        element("Bucket", BUCKET) + element("Key", request.key) + element("ETag", f'"{multipart_md5}"'),
    )


#: The most uploads one ListMultipartUploads answer names, as S3.
MAX_UPLOADS = 1000


def list_uploads(request: S3Request) -> Response:
    """ListMultipartUploads: the principal's own uploads in progress under a prefix, in S3's order (by key, then
    by initiation), a page of ``max-uploads`` at a time after ``key-marker`` (and ``upload-id-marker``: after that
    upload of the marker's key). A person has a handful of uploads in progress (abandoned ones are pruned), so
    they are ordered here rather than by the database, whose collation may not be S3's byte order."""
    query = request.query
    prefix = query.get("prefix", "")
    key_marker = query.get("key-marker", "")
    id_marker = query.get("upload-id-marker", "") if key_marker else ""
    try:
        max_uploads = min(int(query.get("max-uploads", MAX_UPLOADS)), MAX_UPLOADS)
    except ValueError:
        raise S3Error("InvalidArgument", "max-uploads must be a number.") from None
    if max_uploads < 0:
        raise S3Error("InvalidArgument", "max-uploads must not be negative.")
    rows = PartialUpload.objects.filter(owner=request.rights.user, target__startswith_exactly="/" + prefix)
    uploads = sorted(
        rows.only("uuid", "target", "created_at"),
        key=lambda upload: (upload.target, upload.created_at, str(upload.uuid)),
    )
    if key_marker:
        marker = "/" + key_marker
        same_key = [upload for upload in uploads if upload.target == marker]
        ids = [str(upload.uuid) for upload in same_key]
        # After the named upload of the marker's key; all of that key's if the upload has gone meanwhile.
        after_id = same_key[ids.index(id_marker) + 1 :] if id_marker in ids else (same_key if id_marker else [])
        uploads = after_id + [upload for upload in uploads if upload.target > marker]
    page, truncated = uploads[:max_uploads], len(uploads) > max_uploads
    inner = [
        element("Bucket", BUCKET),
        element("KeyMarker", key_marker),
        element("UploadIdMarker", id_marker),
        element("Prefix", prefix),
        element("MaxUploads", max_uploads),
        element("IsTruncated", "true" if truncated else "false"),
    ]
    if truncated and page:
        inner += [
            element("NextKeyMarker", page[-1].target.lstrip("/")),
            element("NextUploadIdMarker", page[-1].uuid),
        ]
    inner += [
        "<Upload>"
        + element("Key", upload.target.lstrip("/"))
        + element("UploadId", upload.uuid)
        + element("StorageClass", "STANDARD")
        + element("Initiated", responses.timestamp(upload.created_at))
        + "</Upload>"
        for upload in page
    ]
    return responses.xml("ListMultipartUploadsResult", "".join(inner))
