"""Content blobs in the default Django storage: a fresh name for every write (``blobs/ab/<uuid>``).

:func:`received` streams a body into a new blob that no node points at yet, and removes it again if the block
that uses it fails; :func:`discard` removes a blob no node points at any more (after the commit that let go
of it). Nothing here knows about nodes: ``files.services`` points them at the blobs.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, BinaryIO, Protocol

from django.conf import settings
from django.core.files import File
from django.core.files.storage import FileSystemStorage, default_storage

from files.errors import UploadTooLarge

CHUNK_SIZE = 256 * 1024


class Readable(Protocol):
    def read(self, size: int = ..., /) -> bytes: ...


class _SpooledFile(File):  # type: ignore[type-arg]
    """A finished temporary file; FileSystemStorage moves it into place instead of copying it."""

    def temporary_file_path(self) -> str:
        return str(self.name)


def _copy(stream: Readable, handle: IO[bytes], limit: int) -> tuple[int, str]:
    """Copy ``stream`` into ``handle`` up to ``limit`` bytes: (size, sha256)."""
    digest = hashlib.sha256()
    size = 0
    while chunk := stream.read(CHUNK_SIZE):
        size += len(chunk)
        if size > limit:
            raise UploadTooLarge(f"The file is larger than the limit of {limit} bytes.")
        digest.update(chunk)
        handle.write(chunk)
    handle.flush()
    if settings.FSYNC_UPLOADS:
        os.fsync(handle.fileno())
    return size, digest.hexdigest()


def _create(path: str) -> BinaryIO:
    """Open a new file at ``path`` for writing; it must not exist yet (its folder may not)."""
    try:
        return open(path, "xb")
    except FileNotFoundError:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        return open(path, "xb")


def store(stream: Readable, max_size: int | None) -> tuple[str, int, str]:
    """Store ``stream`` as a new blob: (blob name, size, sha256). Nothing is left behind if that fails.

    On a local storage the bytes go straight into the blob's own file, created exclusively under a fresh name:
    nothing reads a blob before a node points at it, so it needs no temporary file and no move (a sync client
    uploading many small files pays those on every file). Any other storage (S3 and the like) is handed a
    finished temporary file.
    """
    limit = settings.MAX_UPLOAD_SIZE if max_size is None else max_size
    key = uuid.uuid4().hex
    name = f"blobs/{key[:2]}/{key}"
    storage = default_storage
    if isinstance(storage, FileSystemStorage):
        path = storage.path(name)
        handle = _create(path)
        try:
            with handle:
                size, sha256 = _copy(stream, handle, limit)
                if storage.file_permissions_mode is not None:
                    os.fchmod(handle.fileno(), storage.file_permissions_mode)
        except BaseException:
            os.unlink(path)
            raise
    else:
        with _spooled(stream, limit) as (temp_path, size, sha256), open(temp_path, "rb") as spooled:
            name = storage.save(name, _SpooledFile(spooled, name=temp_path))
    return name, size, sha256


@contextmanager
def received(stream: Readable, max_size: int | None) -> Iterator[tuple[str, int, str]]:
    """:func:`store` ``stream``: yields (blob name, size, sha256), and removes the blob if the block fails."""
    name, size, sha256 = store(stream, max_size)
    try:
        yield name, size, sha256
    except BaseException:
        discard(name)
        raise


@contextmanager
def _spooled(stream: Readable, limit: int) -> Iterator[tuple[str, int, str]]:
    """Copy ``stream`` into a temporary file: yields (path, size, sha256), and removes what is left."""
    handle = tempfile.NamedTemporaryFile(dir=settings.FILE_UPLOAD_TEMP_DIR, prefix="upload-", delete=False)
    try:
        with handle:
            size, sha256 = _copy(stream, handle, limit)
        yield handle.name, size, sha256
    finally:
        if os.path.exists(handle.name):
            os.unlink(handle.name)


def discard(name: str) -> None:
    if name:
        default_storage.delete(name)


def discard_all(names: list[str]) -> None:
    for name in names:
        discard(name)
