"""File contents in an S3-compatible object store: django-storages' S3 backend, with uploads and reads that stream.

``cellsadmin.settings`` makes :class:`ObjectStorage` the default storage when ``BLOB_S3_ENDPOINT`` and
``BLOB_S3_BUCKET`` are set; django-storages does the listing, removing and configuration.

Writes (:meth:`ObjectStorage._save`) send an object of up to :data:`PART_SIZE` in one PUT, and a larger one as a
multipart upload: the stream is read a part at a time in the caller's thread (a request's body is read where
it arrives), and a few parts go up at once in threads of their own, so an upload holds a few parts in memory,
never the file. (boto3's transfer manager, which django-storages uses, reads the stream in a thread of its own
and keeps reading a body to its end after a part has failed.) Either way the object appears whole or not at
all: nothing reads a multipart upload before it is completed, and a failed one is aborted, or, when the store
cannot be reached to abort it, removed later by ``blobs_prune``.

Reads are :class:`ObjectReader`: django-storages' own file downloads a whole object into a temporary file
before its first byte can be read; this one streams it from any offset with one ranged GET, so a download
starts at once and a ranged one reads only what it sends.

Timeouts and retries are bounded (:data:`CLIENT`, the timeouts configurable): a store that is down or hangs fails
the request within seconds, and ``lib.unavailable`` answers it with 503 and ``Retry-After``.
"""

from __future__ import annotations

import io
import logging
import threading
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from datetime import datetime
from typing import IO, Any, cast

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError
from django.core.files import File
from storages.backends.s3 import S3Storage
from storages.utils import clean_name

logger = logging.getLogger(__name__)

MiB = 1024 * 1024

CLIENT = Config(
    s3={"addressing_style": "path"},
    signature_version="s3v4",
    # A store that refuses connections fails at once; one that accepts and then says nothing fails after these:
    # the defaults of the storage's connect_timeout and read_timeout options (BLOB_S3_CONNECT_TIMEOUT and
    # BLOB_S3_READ_TIMEOUT in the settings).
    connect_timeout=5,
    read_timeout=30,
    # Three attempts in all, with the SDK's backoff: a store restarting for a second is ridden over, a store
    # that is down is reported within seconds.
    retries={"max_attempts": 3, "mode": "standard"},
    # Checksums only where the API requires one: S3-compatible stores do not all know the newer trailing ones.
    request_checksum_calculation="when_required",
    response_checksum_validation="when_required",
    max_pool_connections=16,
)

#: Objects smaller than this go up in one PUT; larger ones as a multipart upload of parts of this size (S3's
#: smallest part is 5 MiB).
PART_SIZE = 8 * MiB
#: Parts of one upload sent at once, while the next is read from the stream.
PARTS_IN_FLIGHT = 3


class ObjectStorage(S3Storage):  # type: ignore[misc]
    """django-storages' S3 storage with path-style addressing, bounded timeouts, no presigned URLs (nothing
    here hands out the store's URLs), streamed uploads and :class:`ObjectReader` for reading."""

    client_config = CLIENT
    querystring_auth = False
    file_overwrite = True  # blob names are new for every write: never a HEAD to find a free one

    def __init__(self, **settings: Any) -> None:
        super().__init__(**settings)
        self.client_config = self.client_config.merge(
            Config(connect_timeout=self.connect_timeout, read_timeout=self.read_timeout)
        )
        self._session: boto3.Session | None = None
        self._session_lock = threading.Lock()

    def get_default_settings(self) -> dict[str, Any]:
        # Two options more: the seconds to connect to the store and to wait for its answer.
        return {
            **super().get_default_settings(),
            "connect_timeout": CLIENT.connect_timeout,
            "read_timeout": CLIENT.read_timeout,
        }

    def __getstate__(self) -> dict[str, Any]:
        state: dict[str, Any] = super().__getstate__()
        state.pop("_session", None)
        state.pop("_session_lock", None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        self._session = None
        self._session_lock = threading.Lock()

    def _create_session(self) -> boto3.Session:
        # One session for every thread (each still gets its own client, as django-storages wants): a session
        # loads the service's models, some 15 MB and half a second, which a thread's client then shares.
        if self._session is None:
            self._session = super()._create_session()
        return self._session

    @property
    def connection(self) -> Any:
        connection = getattr(self._connections, "connection", None)
        if connection is None:
            with self._session_lock:  # a session is not safe to make clients from in two threads at once
                connection = super().connection
        return connection

    def _save(self, name: str, content: File) -> str:  # type: ignore[type-arg]
        cleaned: str = clean_name(name)
        key = self._normalize_name(cleaned)
        params = self._get_write_parameters(key, content)
        client = self.connection.meta.client
        first = _read_part(content)
        if len(first) < PART_SIZE:
            client.put_object(Bucket=self.bucket_name, Key=key, Body=first, **params)
        else:
            self._upload_parts(client, key, params, first, content)
        return cleaned

    def _upload_parts(self, client: Any, key: str, params: dict[str, Any], first: bytes, content: File) -> None:  # type: ignore[type-arg]
        """A multipart upload of ``first`` and the rest of ``content``; aborted if anything fails, which stops
        reading ``content`` at once."""
        upload_id = client.create_multipart_upload(Bucket=self.bucket_name, Key=key, **params)["UploadId"]

        def send(number: int, body: bytes) -> dict[str, Any]:
            answer = client.upload_part(
                Bucket=self.bucket_name, Key=key, UploadId=upload_id, PartNumber=number, Body=body
            )
            return {"PartNumber": number, "ETag": answer["ETag"]}

        pool = ThreadPoolExecutor(max_workers=PARTS_IN_FLIGHT, thread_name_prefix="blob-part")
        try:
            sending: set[Future[dict[str, Any]]] = set()
            sent: list[Future[dict[str, Any]]] = []
            part, number = first, 1
            while part:
                if len(sending) >= PARTS_IN_FLIGHT:
                    wait(sending, return_when=FIRST_COMPLETED)
                for future in [future for future in sending if future.done()]:
                    future.result()  # a failed part fails the upload now, not after the whole body
                    sending.discard(future)
                future = pool.submit(send, number, part)
                sending.add(future)
                sent.append(future)
                part, number = _read_part(content), number + 1
            parts = [future.result() for future in sent]
            client.complete_multipart_upload(
                Bucket=self.bucket_name, Key=key, UploadId=upload_id, MultipartUpload={"Parts": parts}
            )
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)
            try:
                client.abort_multipart_upload(Bucket=self.bucket_name, Key=key, UploadId=upload_id)
            except Exception:
                logger.warning("Could not abort the upload of %s now; blobs_prune will.", key, exc_info=True)
            raise
        finally:
            pool.shutdown(wait=False)

    def _open(self, name: str, mode: str = "rb") -> File:  # type: ignore[type-arg]
        if mode != "rb":
            return super()._open(name, mode)  # type: ignore[no-any-return]
        return self.open_at(name, 0)

    def open_at(self, name: str, offset: int, *, deferred: bool = False) -> File:  # type: ignore[type-arg]
        """The object ``name`` as a file positioned at ``offset``. The store has been asked for those bytes
        already, so an object that is missing (FileNotFoundError) or a store that cannot be reached fails here;
        ``deferred``: by the first read."""
        key = self._normalize_name(clean_name(name))
        reader = ObjectReader(self.connection.meta.client, self.bucket_name, key, offset, deferred=deferred)
        return File(cast(IO[bytes], reader), name=name)

    def duplicate(self, name: str, new_name: str) -> None:
        """Copy the object ``name`` to ``new_name`` within the store: its bytes never pass through here (parts
        copied in parallel for a large one). FileNotFoundError if there is no such object."""
        source = {"Bucket": self.bucket_name, "Key": self._normalize_name(clean_name(name))}
        try:
            self.connection.meta.client.copy(source, self.bucket_name, self._normalize_name(clean_name(new_name)))
        except ClientError as error:
            if _status(error) == 404:
                raise FileNotFoundError(f"No blob {name!r} in the object store.") from None
            raise

    def get_modified_time(self, name: str) -> datetime:
        try:
            return super().get_modified_time(name)  # type: ignore[no-any-return]
        except ClientError as error:
            if _status(error) == 404:
                raise FileNotFoundError(f"No blob {name!r} in the object store.") from None
            raise

    def stale_uploads(self, prefix: str, before: datetime) -> Iterator[tuple[str, str]]:
        """(key, upload id) of every multipart upload under ``prefix`` begun before ``before`` and neither
        completed nor aborted: an upload whose abort did not reach the store, or whose process died."""
        client = self.connection.meta.client
        pages = client.get_paginator("list_multipart_uploads").paginate(
            Bucket=self.bucket_name, Prefix=self._normalize_name(clean_name(prefix))
        )
        for page in pages:
            for upload in page.get("Uploads", ()):
                if upload["Initiated"] < before:
                    yield upload["Key"], upload["UploadId"]

    def abort_upload(self, key: str, upload_id: str) -> None:
        self.connection.meta.client.abort_multipart_upload(Bucket=self.bucket_name, Key=key, UploadId=upload_id)


def _read_part(content: File) -> bytes:  # type: ignore[type-arg]
    """The next :data:`PART_SIZE` bytes of ``content``, fewer only at its end."""
    pieces: list[bytes] = []
    missing = PART_SIZE
    while missing and (piece := content.read(missing)):
        pieces.append(piece)
        missing -= len(piece)
    return pieces[0] if len(pieces) == 1 else b"".join(pieces)


def _status(error: ClientError) -> int:
    return int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))


class ObjectReader(io.RawIOBase):
    """An object's bytes, read as they arrive from the store. ``seek`` only moves the position; the next read
    asks the store from there (a GET with ``Range``) unless the bytes already arriving start there."""

    def __init__(self, client: Any, bucket: str, key: str, offset: int = 0, *, deferred: bool = False) -> None:
        super().__init__()
        self._client = client
        self._bucket = bucket
        self._key = key
        self._position = offset
        self._body: Any = None
        self._body_position = 0
        self.size: int | None = None
        if not deferred:
            self._request()

    def _request(self) -> None:
        self._drop()
        position = self._position
        if self.size is not None and position >= self.size:
            return  # nothing left to read
        extra = {"Range": f"bytes={position}-"} if position else {}
        try:
            response = self._client.get_object(Bucket=self._bucket, Key=self._key, **extra)
        except ClientError as error:
            if _status(error) == 404:
                raise FileNotFoundError(f"No blob {self._key!r} in the object store.") from None
            if _status(error) == 416:  # at or past the end
                return
            raise
        content_range = response.get("ContentRange")  # "bytes 10-99/100"
        self.size = int(content_range.rpartition("/")[2]) if content_range else int(response["ContentLength"])
        self._body = response["Body"]
        self._body_position = position

    def _drop(self) -> None:
        if self._body is not None:
            self._body.close()
            self._body = None

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_CUR:
            offset += self._position
        elif whence == io.SEEK_END:
            if self.size is None:
                raise OSError("The object's size is not known.")
            offset += self.size
        if offset < 0:
            raise ValueError("negative seek position")
        self._position = offset
        return offset

    def read(self, size: int | None = -1, /) -> bytes:
        if size == 0 or (self.size is not None and self._position >= self.size):
            return b""
        if self._body is None or self._body_position != self._position:
            self._request()
            if self._body is None:
                return b""
        data: bytes = self._body.read(None if size is None or size < 0 else size)
        self._position += len(data)
        self._body_position = self._position
        return data

    def readall(self) -> bytes:
        return self.read(-1)

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self._drop()
        super().close()
