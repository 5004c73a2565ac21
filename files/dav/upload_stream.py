"""A WebDAV upload's body on its way into ``files.services.write_file``: WsgiDAV hands a PUT's body to the
object ``begin_write`` returns as an iterable of chunks; ``files.services`` reads a stream.

WsgiDAV reads the body until the server's input ends, whatever the request declared: the stream is read
against the declared length (``files.uploads.DeclaredBody``), so that a body cut short is refused rather than
stored as the whole file."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from files.uploads import DeclaredBody

if TYPE_CHECKING:
    from files.dav.resources import FileResource


class ChunkStream:
    """The request body as WsgiDAV hands it over (an iterable of chunks), readable by ``files.services``.

    A read returns at most ``size`` bytes, and fewer when a chunk ends (as a raw stream does; only b"" means
    the end): chunks are handed on as they come, never copied into a growing buffer."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks: Iterator[bytes] = iter(chunks)
        self._pending = b""

    def read(self, size: int = -1, /) -> bytes:
        if size < 0:
            data, self._pending = self._pending + b"".join(self._chunks), b""
            return data
        while not self._pending:
            chunk = next(self._chunks, None)
            if chunk is None:
                return b""
            self._pending = chunk
        if len(self._pending) <= size:
            data, self._pending = self._pending, b""
        else:
            data, self._pending = self._pending[:size], self._pending[size:]
        return data


class Upload:
    """What ``begin_write`` returns: WsgiDAV passes the whole body to ``writelines``, which streams it into
    ``files.services.write_file`` (atomic: a failed upload leaves the previous content, or no node).
    ``expected``: the body's declared length (None: a chunked body, which the server ends)."""

    def __init__(self, resource: FileResource, expected: int | None) -> None:
        self._resource = resource
        self._expected = expected

    def writelines(self, chunks: Iterable[bytes]) -> None:
        self._resource.receive(DeclaredBody(ChunkStream(chunks), self._expected))

    def close(self) -> None:
        pass
