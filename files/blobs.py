"""Content blobs in the default Django storage: a fresh name for every write (``blobs/ab/<uuid>``).

:func:`received` streams a body into a new blob that no node points at yet, and removes it again if the block
that uses it fails; :func:`discard` removes a blob no node points at any more (after the commit that let go
of it). Nothing here knows about nodes: ``files.services`` points them at the blobs, and ``files.orphans``
collects the blobs that a crash or an unreachable store left without one.

The default storage is local files under ``DATA_DIR``, or an S3-compatible object store
(``files.object_storage``); both are written and read through Django's storage API, but for the local storage's
fast path in :func:`store`.
"""

from __future__ import annotations

import hashlib
import logging
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, BinaryIO, NamedTuple, Protocol, cast

from django.conf import settings
from django.core.files import File
from django.core.files.storage import FileSystemStorage, default_storage

from files.errors import UploadTooLarge
from files.object_storage import ObjectStorage

logger = logging.getLogger(__name__)

CHUNK_SIZE = 256 * 1024
#: Where every blob lives in the storage, one folder per first two characters of its name.
FOLDER = "blobs"


class Readable(Protocol):
    def read(self, size: int = ..., /) -> bytes: ...


def _too_large(limit: int) -> UploadTooLarge:
    return UploadTooLarge(f"The file is larger than the limit of {limit} bytes.")


class Stored(NamedTuple):
    """A blob just written: its name, its size and the MD5 of its bytes, computed as they went by: what S3
    clients expect as an object's ETag, and a file's entity tag on every protocol. One digest only: hashing is
    most of an upload's CPU (MD5 about 600 MiB/s on one core, a second digest would add half as much again)."""

    name: str
    size: int
    md5: str


class FillsBuffers(Readable, Protocol):
    """A stream whose ``readinto`` is the way to read it (``files.uploads.SocketBody``): it says so with
    ``fills_buffers``. Not any stream with a ``readinto``: a file-like whose ``read`` does more (counts, checks,
    fails as a test's broken client does) may have inherited one that bypasses it."""

    fills_buffers: bool

    def readinto(self, buffer: memoryview, /) -> int: ...


def _chunks(stream: Readable) -> Iterator[bytes | memoryview]:
    """``stream``'s bytes, chunk by chunk. A stream that fills buffers fills the same one each time: each chunk
    is only good until the next is asked for."""
    if getattr(stream, "fills_buffers", False):
        view = memoryview(bytearray(CHUNK_SIZE))
        while count := cast(FillsBuffers, stream).readinto(view):
            yield view[:count]
        return
    while chunk := stream.read(CHUNK_SIZE):
        yield chunk


def _copy(stream: Readable, handle: IO[bytes], limit: int) -> tuple[int, str]:
    """Copy ``stream`` into ``handle`` up to ``limit`` bytes: (size, md5)."""
    md5 = hashlib.md5(usedforsecurity=False)
    size = 0
    for chunk in _chunks(stream):
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        md5.update(chunk)
        handle.write(chunk)
    handle.flush()
    if settings.FSYNC_UPLOADS:
        os.fsync(handle.fileno())
    return size, md5.hexdigest()


class _Metered:
    """``stream`` as a storage reads it: counted against ``limit`` and hashed on the way."""

    def __init__(self, stream: Readable, limit: int) -> None:
        self._stream = stream
        self._limit = limit
        self._md5 = hashlib.md5(usedforsecurity=False)
        self.size = 0

    def read(self, size: int | None = -1, /) -> bytes:
        if size is None or size < 0:
            return b"".join(iter(lambda: self.read(CHUNK_SIZE), b""))
        chunk = self._stream.read(size)
        self.size += len(chunk)
        if self.size > self._limit:
            raise _too_large(self._limit)
        self._md5.update(chunk)
        return chunk

    def seekable(self) -> bool:
        return False  # never rewound: what was read is gone

    closed = False  # the caller's stream is the caller's to close

    def close(self) -> None:
        pass

    @property
    def md5(self) -> str:
        return self._md5.hexdigest()


def _create(path: str) -> BinaryIO:
    """Open a new file at ``path`` for writing; it must not exist yet (its folder may not)."""
    try:
        return open(path, "xb")
    except FileNotFoundError:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        return open(path, "xb")


def _new_name() -> str:
    key = uuid.uuid4().hex
    return f"{FOLDER}/{key[:2]}/{key}"


def store(stream: Readable, max_size: int | None) -> Stored:
    """Store ``stream`` as a new blob. Nothing is left behind if that fails.

    On a local storage the bytes go straight into the blob's own file, created exclusively under a fresh name:
    nothing reads a blob before a node points at it, so it needs no temporary file and no move (a sync client
    uploading many small files pays those on every file). Any other storage (the object store) is handed the
    stream itself, which it reads as it sends it on.
    """
    limit = settings.MAX_UPLOAD_SIZE if max_size is None else max_size
    name = _new_name()
    storage = default_storage
    if isinstance(storage, FileSystemStorage):
        path = storage.path(name)
        handle = _create(path)
        try:
            with handle:
                size, md5 = _copy(stream, handle, limit)
                if storage.file_permissions_mode is not None:
                    os.fchmod(handle.fileno(), storage.file_permissions_mode)
        except BaseException:
            os.unlink(path)
            raise
        return Stored(name, size, md5)
    metered = _Metered(stream, limit)
    try:
        name = storage.save(name, File(cast(IO[bytes], metered), name=name))
    except BaseException:
        # An object store shows no object for an upload that failed; but the failure may be the answer to
        # an upload that did complete (the store went away before it said so), and another storage may keep
        # what it was given so far.
        discard(name)
        raise
    return Stored(name, metered.size, metered.md5)


@contextmanager
def received(stream: Readable, max_size: int | None) -> Iterator[Stored]:
    """:func:`store` ``stream``: yields what was stored, and removes the blob if the block fails."""
    stored = store(stream, max_size)
    try:
        yield stored
    except BaseException:
        discard(stored.name)
        raise


def open_blob(name: str, offset: int = 0, *, deferred: bool = False) -> IO[bytes]:
    """The blob ``name`` for reading, positioned at ``offset``. From an object store the bytes stream as they
    are read, and the store is asked for them here, so that a blob that is missing or a store that cannot be
    reached fails before anything was sent; ``deferred``: by the first read instead, after the caller's own
    seek, for a caller that answers a failure of that read itself."""
    storage = default_storage
    if isinstance(storage, ObjectStorage):
        return storage.open_at(name, offset, deferred=deferred)
    handle = storage.open(name, "rb")
    if offset:
        handle.seek(offset)
    return handle


def duplicate(name: str, size: int) -> str:
    """A new blob with the content of the blob ``name`` (``size`` bytes): its name. In an object store the store
    copies it; elsewhere it is read and stored again. FileNotFoundError if ``name`` is gone."""
    storage = default_storage
    if isinstance(storage, ObjectStorage):
        new_name = _new_name()
        try:
            storage.duplicate(name, new_name)
        except BaseException:
            discard(new_name)  # a copy the store made before the failure was reported
            raise
        return new_name
    with open_blob(name) as handle:
        return store(handle, size).name


def discard(name: str) -> None:
    """Remove the blob ``name``. A storage that cannot be reached now leaves it to ``files.orphans``: the
    write or delete that let go of it has been committed, and must not be answered as a failure."""
    if not name:
        return
    try:
        default_storage.delete(name)
    except Exception:
        logger.warning("Could not remove the blob %s now; blobs_prune will.", name, exc_info=True)


def discard_all(names: list[str]) -> None:
    for name in names:
        discard(name)
