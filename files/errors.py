"""What the node tree refuses, as exceptions the REST API and WebDAV map to their statuses."""

from __future__ import annotations


class NodeError(ValueError):
    """An operation the tree refuses: a bad name, a name taken, a folder expected, and so on."""


class NameTaken(NodeError):
    pass


class UploadTooLarge(NodeError):
    pass


class PreconditionFailed(NodeError):
    """The file is not in the state the write was made for (``If-Match`` / ``If-None-Match``)."""


class ConcurrentChange(NodeError):
    """What an operation was reading changed under it (a file of a folder being copied went away)."""


class Locked(NodeError):
    """A WebDAV lock holds what the write would change (the node, a folder above it with Depth infinity, or the
    folder whose members it would change). A write that cannot present the lock's token is refused."""


class IncompleteUpload(NodeError):
    """An upload's body did not arrive whole: it ended before its declared length, or reading it failed (the
    client went away, a chunked body broke off). Nothing of it is stored."""


class LengthRequired(NodeError):
    """A chunked body that this WSGI server does not de-chunk (Django's runserver): refused, never stored empty."""
