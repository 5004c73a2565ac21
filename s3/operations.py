"""The S3 operations on bucket ``io``, on the file domain: keys name nodes (``s3.listing``), ``files.rights``
decides every access, ``files.services`` writes (through the lock guard REST uploads use) and
``files.downloads`` reads ranges.

Out of reach is ``NoSuchKey``, exactly as a key that does not exist; a reachable key the principal may not
write (or read) is ``AccessDenied``.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, unquote

from defusedxml import ElementTree
from django.conf import settings
from django.db import transaction
from django.utils.http import http_date, parse_etags, parse_http_date_safe

from files import copies, downloads, media_types, paths, services
from files.conditions import modified_second
from files.errors import Locked, NameTaken
from files.locks import write_guard
from files.models import Node
from files.rights import Access, Rights
from files.uploads import DeclaredBody, declared_length
from s3 import listing, responses
from s3.bodies import checked_body, xml_request_body
from s3.errors import S3Error
from s3.responses import Response, element
from s3.signature import Claim

BUCKET = "io"
MAX_KEYS = 1000
#: The MD5 of no bytes: a folder's ETag.
EMPTY_MD5 = hashlib.md5(b"", usedforsecurity=False).hexdigest()

Environ = dict[str, Any]


@dataclass
class S3Request:
    environ: Environ
    claim: Claim
    rights: Rights
    method: str
    bucket: str
    key: str
    query: dict[str, str]

    def header(self, name: str) -> str | None:
        value = self.environ.get("HTTP_" + name.upper().replace("-", "_"))
        return value if isinstance(value, str) else None


def parse_target(environ: Environ) -> tuple[str, str, dict[str, str]]:
    """(bucket, key, query) of a path-style request; the path is decoded as UTF-8."""
    try:
        path = environ.get("PATH_INFO", "/").encode("latin-1").decode("utf-8")
    except UnicodeError:
        raise S3Error("InvalidURI", "The request path is not UTF-8.") from None
    bucket, _, key = path.lstrip("/").partition("/")
    query = dict(parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True))
    return bucket, key, query


def etag_of(node: Node) -> str:
    if node.is_folder:
        return f'"{EMPTY_MD5}"'
    return f'"{node.md5 or node.etag}"'


# --- Buckets -------------------------------------------------------------------------------------------------------


def list_buckets(request: S3Request) -> Response:
    user = request.rights.user
    return responses.xml(
        "ListAllMyBucketsResult",
        "<Owner>"
        + element("ID", user.uuid)
        + element("DisplayName", user.login)
        + "</Owner><Buckets><Bucket>"
        + element("Name", BUCKET)
        + element("CreationDate", responses.timestamp(user.date_joined))
        + "</Bucket></Buckets>",
    )


def bucket_location(request: S3Request) -> Response:
    return responses.xml("LocationConstraint", "")


def list_objects(request: S3Request) -> Response:
    query = request.query
    v2 = query.get("list-type") == "2"
    prefix = query.get("prefix", "")
    delimiter = query.get("delimiter", "")
    encoding = query.get("encoding-type", "")
    if delimiter not in {"", "/"}:
        raise S3Error("InvalidArgument", "The only delimiter this gateway knows is '/'.")
    if encoding not in {"", "url"}:
        raise S3Error("InvalidArgument", "encoding-type must be url.")
    try:
        max_keys = min(int(query.get("max-keys", MAX_KEYS)), MAX_KEYS)
    except ValueError:
        raise S3Error("InvalidArgument", "max-keys must be a number.") from None
    if max_keys < 0:
        raise S3Error("InvalidArgument", "max-keys must not be negative.")
    if v2:
        token = query.get("continuation-token")
        after = _token_key(token) if token is not None else query.get("start-after", "")
    else:
        after = query.get("marker", "")
    page = listing.list_keys(request.rights, prefix=prefix, delimiter=delimiter, after=after, max_keys=max_keys)
    inner = [
        element("Name", BUCKET),
        element("Prefix", responses.encoded(prefix, encoding)),
        element("MaxKeys", max_keys),
        element("IsTruncated", "true" if page.truncated else "false"),
    ]
    if delimiter:
        inner.append(element("Delimiter", delimiter))
    if encoding:
        inner.append(element("EncodingType", encoding))
    last = page.entries[-1].key if page.entries else ""
    if v2:
        inner.append(element("KeyCount", len(page.entries)))
        if "continuation-token" in query:
            inner.append(element("ContinuationToken", query["continuation-token"]))
        if "start-after" in query:
            inner.append(element("StartAfter", responses.encoded(query["start-after"], encoding)))
        if page.truncated:
            inner.append(element("NextContinuationToken", base64.urlsafe_b64encode(last.encode()).decode()))
    else:
        inner.append(element("Marker", responses.encoded(after, encoding)))
        if page.truncated:
            inner.append(element("NextMarker", responses.encoded(last, encoding)))
    for entry in page.entries:
        if entry.node is None:
            inner.append(responses.common_prefix(entry, encoding))
        else:
            inner.append(responses.contents(entry, etag_of(entry.node), encoding))
    return responses.xml("ListBucketResult", "".join(inner))


def _token_key(token: str) -> str:
    try:
        return base64.urlsafe_b64decode(token.encode("ascii")).decode("utf-8")
    except (ValueError, UnicodeError):
        raise S3Error("InvalidArgument", "The continuation token is not one this gateway gave.") from None


# --- Objects -------------------------------------------------------------------------------------------------------


def _reachable(request: S3Request) -> tuple[Node, Access]:
    """The node a key names and the principal's access to it; NoSuchKey if there is none for the principal, or
    if the key's form (a trailing ``/`` or not) does not match the node's kind."""
    public = listing.public_path(request.key)
    node = paths.resolve_path(public, rights=request.rights) if public is not None else None
    if node is None:
        raise S3Error.no_such_key()
    access = request.rights.access(node)
    if not access or node.is_folder != request.key.endswith("/"):
        raise S3Error.no_such_key()
    return node, access


def _object_headers(node: Node) -> dict[str, str]:
    return {
        "ETag": etag_of(node),
        "Last-Modified": http_date(modified_second(node)),
        "Content-Type": "application/x-directory" if node.is_folder else media_types.served_type(node.content_type),
        "Accept-Ranges": "bytes",
        "x-amz-meta-mtime": f"{node.mtime.timestamp():.6f}",
        **media_types.USER_BYTES_HEADERS,
    }


def _conditions(request: S3Request, node: Node) -> Response | None:
    """GetObject's and HeadObject's conditional headers: 412 or 304, else None."""
    etag = etag_of(node)
    modified = modified_second(node)
    if_match = request.header("If-Match")
    if if_match is not None and "*" not in (tags := parse_etags(if_match)) and etag not in tags:
        raise S3Error("PreconditionFailed", "At least one of the preconditions you specified did not hold.", 412)
    since = parse_http_date_safe(request.header("If-Unmodified-Since") or "")
    if if_match is None and since is not None and modified > since:
        raise S3Error("PreconditionFailed", "At least one of the preconditions you specified did not hold.", 412)
    if_none_match = request.header("If-None-Match")
    if if_none_match is not None:
        tags = parse_etags(if_none_match)
        if "*" in tags or etag in tags:
            return Response(status=304, headers={"ETag": etag})
        return None
    modified_since = parse_http_date_safe(request.header("If-Modified-Since") or "")
    if modified_since is not None and modified <= modified_since:
        return Response(status=304, headers={"ETag": etag})
    return None


def head_object(request: S3Request) -> Response:
    node, _access = _reachable(request)
    not_modified = _conditions(request, node)
    if not_modified is not None:
        return not_modified
    return Response(headers={**_object_headers(node), "Content-Length": str(node.size)})


def get_object(request: S3Request) -> Response:
    node, access = _reachable(request)
    if Access.READ not in access:
        raise S3Error.access_denied("This token may not read this object's content.")
    not_modified = _conditions(request, node)
    if not_modified is not None:
        return not_modified
    headers = _object_headers(node)
    if node.is_folder:
        return Response(headers={**headers, "Content-Length": "0"})
    try:
        wanted = downloads.requested_range(
            request.header("Range"),
            request.header("If-Range"),
            size=node.size,
            etag=etag_of(node),
            modified=modified_second(node),
        )
    except downloads.RangeNotSatisfiable:
        raise S3Error(
            "InvalidRange",
            "The requested range is not satisfiable.",
            416,
            headers={"Content-Range": f"bytes */{node.size}"},
        ) from None
    first, length = (wanted.first, wanted.length) if wanted is not None else (0, node.size)
    handle = services.open_content(node, first)
    body = _Slice(handle, length)
    if wanted is None:
        return Response(body=body, headers={**headers, "Content-Length": str(node.size)}, closing=handle)
    return Response(
        status=206,
        body=body,
        headers={**headers, "Content-Length": str(length), "Content-Range": wanted.content_range},
        closing=handle,
    )


class _Slice:
    def __init__(self, handle: Any, length: int) -> None:
        self._handle = handle
        self._length = length

    def __iter__(self) -> Any:
        remaining = self._length
        while remaining > 0:
            chunk = self._handle.read(min(downloads.CHUNK_SIZE, remaining))
            if not chunk:
                return
            remaining -= len(chunk)
            yield chunk


def _chain(request: S3Request, public: str) -> list[Node | None]:
    """The nodes at ``public`` (``/<slug>/<names…>``) and at each of its ancestors, the workspace's root first;
    None where there is none: one query for a whole key, however deep."""
    parts = public.strip("/").split("/")
    wanted = ["/" + "/".join(parts[: depth + 1]) for depth in range(len(parts))]
    return paths.resolve_paths(wanted, rights=request.rights)


def _ensure_folder(request: S3Request, public: str, chain: list[Node | None] | None = None) -> Node:
    """The folder at ``public`` (``/<slug>/<names…>``), created with its missing parents where the principal may
    write; NoSuchKey where it reaches nothing, AccessDenied where it may not write. ``chain``: what
    :func:`_chain` found for ``public``, if the caller looked already."""
    parts = public.strip("/").split("/")
    rights = request.rights
    if chain is None:
        chain = _chain(request, public)
    node = chain[0]
    if node is None or not rights.access(node):
        raise S3Error.no_such_key()
    for depth in range(1, len(parts)):
        # Below a folder created here, nothing was there when the chain was read.
        child = chain[depth] if chain[depth - 1] is node else None
        if child is None:
            if Access.WRITE not in rights.access(node):
                raise S3Error.access_denied("This token may not write here.")
            try:
                with transaction.atomic():
                    write_guard.refuse_if_locked(
                        write_guard.member_url(node, parts[depth]), new_in=write_guard.url_of(node)
                    )
                    child = services.create_folder(parent=node, name=parts[depth])
            except NameTaken:
                child = paths.resolve_path("/" + "/".join(parts[: depth + 1]), rights=rights)
                if child is None:
                    raise S3Error("OperationAborted", "The folder changed meanwhile; try again.", 409) from None
        if not rights.access(child):
            raise S3Error.no_such_key()
        if not child.is_folder:
            raise S3Error("InvalidArgument", f"{child.public_path!r} is a file, not a folder.")
        node = child
    return node


def put_object(request: S3Request) -> Response:
    public = listing.public_path(request.key)
    if public is None or len(request.key.encode()) > 1024 * 4:
        raise S3Error("InvalidArgument", "This key cannot name a file: no empty, '.' or '..' segments.")
    environ = request.environ
    content_sha256 = environ.get("HTTP_X_AMZ_CONTENT_SHA256", "")
    length = declared_length(environ)
    decoded = environ.get("HTTP_X_AMZ_DECODED_CONTENT_LENGTH")
    size = int(decoded) if decoded and decoded.isdigit() else length
    if size is not None and size > settings.MAX_UPLOAD_SIZE:
        raise S3Error("EntityTooLarge", f"The object is larger than the limit of {settings.MAX_UPLOAD_SIZE} bytes.")
    body = checked_body(
        environ, DeclaredBody(environ["wsgi.input"], length), content_sha256=content_sha256, claim=request.claim
    )
    if request.key.endswith("/"):
        folder = _ensure_folder(request, public)
        if body.read(1):
            raise S3Error("InvalidArgument", "A key ending in '/' is a folder: its body must be empty.")
        return Response(headers={"ETag": etag_of(folder)})
    parent, name, existing = writable_target(request, public)
    content_type = environ.get("CONTENT_TYPE", "")
    if content_type in {"binary/octet-stream", "application/octet-stream"}:
        content_type = ""  # says nothing: the tree guesses from the name
    guard = write_guard.upload_guard(write_guard.member_url(parent, name), None)
    if write_guard.checked_before_body(length):
        guard.check_locks(exists=existing is not None)
    node, _created = services.write_file(
        parent=parent,
        name=name,
        stream=body,
        content_type=content_type[:255],
        precondition=guard,
        mtime=client_mtime(request),
        found=existing is not None,
    )
    return Response(headers={"ETag": etag_of(node)})


def client_mtime(request: S3Request) -> datetime | None:
    """The modification time a client keeps in ``x-amz-meta-mtime`` (rclone: seconds since 1970, fractional),
    kept as the file's own, as WebDAV keeps ``X-OC-Mtime``; None when absent or no time."""
    value = request.header("X-Amz-Meta-Mtime")
    if value is None:
        return None
    try:
        seconds = float(value)
        return datetime.fromtimestamp(seconds, UTC) if 0 <= seconds < 253402300800 else None
    except (ValueError, OverflowError, OSError):
        return None


def writable_target(request: S3Request, public: str) -> tuple[Node, str, Node | None]:
    """(folder, name, the file there if any) for a write to the file key ``public``: missing folders created,
    AccessDenied where the principal may not write, NoSuchKey where it reaches nothing."""
    parent_path, _, name = public.rpartition("/")
    if not parent_path:
        raise S3Error("InvalidArgument", "A key is <workspace>/<path>: a file cannot be a workspace.")
    chain = _chain(request, public)  # the key's folders and the file, in one query
    parent = _ensure_folder(request, parent_path, chain[:-1])
    # Unless the folder is new (or another request made it meanwhile), the lookup found the file too.
    existing = chain[-1] if chain[-2] is parent else Node.objects.filter(parent=parent, name=name).first()
    if existing is not None and existing.is_folder:
        raise S3Error("InvalidArgument", f"{existing.name!r} is a folder here.")
    writable = Access.WRITE in request.rights.access(parent) or (
        existing is not None and Access.WRITE in request.rights.access(existing)
    )
    if not writable:
        if existing is not None and not request.rights.access(existing):
            raise S3Error.no_such_key()
        raise S3Error.access_denied("This token may not write here.")
    return parent, name, existing


def copy_object(request: S3Request) -> Response:
    """CopyObject within bucket ``io``: the source must be readable, the target writable. A copy onto itself
    (how rclone and the AWS CLI change an object's metadata) keeps the bytes and takes the new modification
    time, if one is given."""
    source_key = _copy_source(request.header("X-Amz-Copy-Source") or "")
    source, access = _reachable(replace(request, key=source_key))
    if Access.READ not in access:
        raise S3Error.access_denied("This token may not read the copy's source.")
    if source.is_folder:
        raise S3Error("InvalidArgument", "A folder cannot be copied.")
    public = listing.public_path(request.key)
    if public is None or request.key.endswith("/"):
        raise S3Error("InvalidArgument", "This key cannot name a file.")
    parent, name, existing = writable_target(request, public)
    if existing is not None and existing.pk == source.pk:
        mtime = client_mtime(request)
        with transaction.atomic():
            write_guard.refuse_if_locked(write_guard.url_of(existing))
            if mtime is not None:
                existing.mtime = mtime
                existing.save(update_fields=["mtime"])
        copied = existing
    else:
        member = write_guard.member_url(parent, name)
        copied = copies.copy(
            node=source,
            parent=parent,
            name=name,
            replacing=existing,
            guard=lambda: write_guard.refuse_if_locked(member, new_in=write_guard.url_of(parent)),
        )
    return responses.xml(
        "CopyObjectResult",
        element("LastModified", responses.timestamp(copied.mtime)) + element("ETag", etag_of(copied)),
    )


def _copy_source(header: str) -> str:
    """The key an ``x-amz-copy-source`` names (``[/]io/<key>[?versionId=…]``, percent-encoded)."""
    path = unquote(header.partition("?")[0]).lstrip("/")
    bucket, _, key = path.partition("/")
    if bucket != BUCKET or not key:
        raise S3Error("InvalidArgument", f"The copy source must be an object of bucket {BUCKET!r}.")
    return key


def delete_object(request: S3Request) -> Response:
    try:
        node, _access = _reachable(request)
    except S3Error:
        return Response(status=204)  # deleting what is not there (for the principal) succeeds, as in S3
    if node.is_root or not request.rights.can_remove(node):
        raise S3Error.access_denied("This token may not delete this object.")
    if node.is_folder and Node.objects.filter(parent=node).exists():
        return Response(status=204)  # a folder key with contents: nothing below it is deleted
    with transaction.atomic():
        url = write_guard.url_of(node)
        write_guard.refuse_if_locked(url, depth="infinity", new_in=write_guard.folder_of(url))
        services.delete(node)
    return Response(status=204)


#: How many keys one DeleteObjects may name (as S3), and how long its XML body may be.
MAX_DELETE_KEYS = 1000
MAX_DELETE_BODY = 1024 * 1024


def delete_objects(request: S3Request) -> Response:
    """DeleteObjects: each key deleted as DeleteObject would, each refusal reported in the answer, never the
    whole request failed for one key."""
    root = xml_request_body(request.environ, MAX_DELETE_BODY, request.claim)
    quiet = (_child_text(root, "Quiet") or "").strip().lower() == "true"
    keys = [_child_text(item, "Key") for item in root if _local(item.tag) == "Object"]
    if not keys or len(keys) > MAX_DELETE_KEYS or any(key is None for key in keys):
        raise S3Error("MalformedXML", f"Name between 1 and {MAX_DELETE_KEYS} objects, each with a Key.")
    results = []
    for key in keys:
        assert key is not None
        try:
            delete_object(replace(request, key=key))
        except S3Error as error:
            results.append(_delete_error(key, error.code, error.message))
        except Locked as error:
            results.append(_delete_error(key, "OperationAborted", str(error)))
        else:
            if not quiet:
                results.append("<Deleted>" + element("Key", key) + "</Deleted>")
    return responses.xml("DeleteResult", "".join(results))


def _delete_error(key: str, code: str, message: str) -> str:
    return "<Error>" + element("Key", key) + element("Code", code) + element("Message", message) + "</Error>"


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _child_text(parent: ElementTree.Element, name: str) -> str | None:
    for child in parent:
        if _local(child.tag) == name:
            return child.text or ""
    return None
