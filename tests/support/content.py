"""What the storage and the tree hold, for tests that check a change left nothing behind."""

from __future__ import annotations

from django.core.files.storage import Storage, default_storage
from django.utils import timezone

from files import services
from files.models import Node


def stored_blobs() -> set[str]:
    """Every blob in the storage (``ab/<name>``), whether a node points at it or not."""
    found: set[str] = set()
    for folder in default_storage.listdir("blobs")[0]:
        found.update(f"{folder}/{name}" for name in default_storage.listdir(f"blobs/{folder}")[1])
    return found


def content_of(node: Node) -> bytes:
    """A file's bytes as stored now (the node is read again first)."""
    node.refresh_from_db()
    with services.open_content(node) as handle:
        return handle.read()


def fill_folder(folder: Node, count: int) -> None:
    """``count`` small file rows in ``folder`` at once (listing tests need many children, not their content)."""
    now = timezone.now()
    Node.objects.bulk_create(
        Node(
            workspace_id=folder.workspace_id,
            parent=folder,
            name=f"file-{index:04}.txt",
            path=f"{folder.path}/file-{index:04}.txt",
            type=Node.FILE,
            size=index,
            mtime=now,
            etag=f"etag{index}",
            content_type="text/plain",
        )
        for index in range(count)
    )


class FullDiskStorage(Storage):
    """A storage whose every write fails, as a full or failing disk does (``settings.STORAGES`` names it)."""

    def _save(self, name: str, content: object) -> str:
        raise OSError("disk on fire")

    def exists(self, name: str) -> bool:
        return False
