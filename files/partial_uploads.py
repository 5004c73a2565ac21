"""Files uploaded in parts (S3 multipart uploads): each part is stored as a blob as it arrives, and completing the
upload streams the named parts, in order, into the file through ``files.services.write_file`` (never the whole
file in memory); aborting it removes the parts. Like ``files.services``, nothing here checks rights.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import IO

from django.db import transaction

from files import blobs
from files.blobs import CHUNK_SIZE, Readable
from files.models import PartialUpload, UploadPart

#: The most parts one upload may have (as S3).
MAX_PARTS = 10000


def store_part(*, upload: PartialUpload, number: int, stream: Readable, max_size: int | None = None) -> UploadPart:
    """Store part ``number`` of ``upload`` from ``stream``; a part sent again replaces the earlier one."""
    stored = blobs.store(stream, max_size)
    try:
        with transaction.atomic():
            old = UploadPart.objects.select_for_update().filter(upload=upload, number=number).first()
            if old is not None:
                old_blob = old.blob
                transaction.on_commit(lambda: blobs.discard(old_blob))
                old.delete()
            return UploadPart.objects.create(
                upload=upload, number=number, blob=stored.name, size=stored.size, md5=stored.md5
            )
    except BaseException:
        blobs.discard(stored.name)
        raise


class Assembled:
    """The bytes of ``parts`` one after the other, read from their blobs as they are asked for."""

    def __init__(self, parts: Sequence[UploadPart]) -> None:
        self._parts: Iterator[UploadPart] = iter(parts)
        self._handle: IO[bytes] | None = None

    def read(self, size: int = -1, /) -> bytes:
        size = CHUNK_SIZE if size < 0 else size
        while True:
            if self._handle is None:
                part = next(self._parts, None)
                if part is None:
                    return b""
                self._handle = blobs.open_blob(part.blob)
            chunk = self._handle.read(size)
            if chunk:
                return chunk
            self._handle.close()
            self._handle = None

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None


def discard(upload: PartialUpload) -> None:
    """Remove ``upload`` and its parts (completed or aborted); the blobs go once that has committed."""
    with transaction.atomic():
        names = list(UploadPart.objects.filter(upload=upload).values_list("blob", flat=True))
        upload.delete()
        transaction.on_commit(lambda: blobs.discard_all(names))
