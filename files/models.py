"""Workspaces, grants and the node tree.

Every node keeps its path inside its workspace (``""`` for the root, ``"/projects/alpha"`` below it), so that
a node is found by path, and the question "is this node inside that one" is answered, without walking the
tree. Renames and moves rewrite the paths of a subtree in one UPDATE (see ``files.services``).
"""

from __future__ import annotations

import uuid
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower

from lib.prefix_lookup import StartsWithExactly

# Paths and lock roots select subtrees by prefix; ``__startswith`` ignores case on SQLite (see the module).
models.TextField.register_lookup(StartsWithExactly)


class Workspace(models.Model):
    uuid = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    slug = models.SlugField(max_length=64, unique=True)
    label = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.slug

    @property
    def root(self) -> Node:
        return Node.objects.get(workspace=self, parent__isnull=True)


class Grant(models.Model):
    """A user (or every member of a group) may read, or read and write, a whole workspace."""

    READ = "r"
    READ_WRITE = "rw"
    LEVELS: ClassVar[list[tuple[str, str]]] = [(READ, "read"), (READ_WRITE, "read+write")]

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="grants")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="grants"
    )
    group = models.ForeignKey("auth.Group", null=True, blank=True, on_delete=models.CASCADE, related_name="grants")
    level = models.CharField(max_length=2, choices=LEVELS, default=READ)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(user__isnull=False, group__isnull=True) | Q(user__isnull=True, group__isnull=False),
                name="files_grant_user_xor_group",
            ),
            models.UniqueConstraint(fields=["workspace", "user"], name="files_grant_unique_user"),
            models.UniqueConstraint(fields=["workspace", "group"], name="files_grant_unique_group"),
        ]

    def __str__(self) -> str:
        return f"{self.user or self.group} → {self.workspace}: {self.get_level_display()}"

    @property
    def can_write(self) -> bool:
        return self.level == self.READ_WRITE


class Node(models.Model):
    FOLDER = "folder"
    FILE = "file"
    TYPES: ClassVar[list[tuple[str, str]]] = [(FOLDER, "folder"), (FILE, "file")]

    uuid = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # No index of their own: the unique constraints below lead with them, and their indexes answer every lookup
    # by workspace or by parent. Each index more is one more B-tree that every upload writes.
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="nodes", db_index=False)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="children", db_index=False
    )
    name = models.CharField(max_length=255, blank=True)
    # Path inside the workspace: "" for the root, "/a/b" below it. Kept in step by files.services and files.copies.
    path = models.TextField(blank=True)
    type = models.CharField(max_length=6, choices=TYPES)
    size = models.BigIntegerField(default=0)
    mtime = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    etag = models.CharField(max_length=64)
    # The hex MD5 of a file's content, computed while any protocol writes it: S3 clients take it as the ETag
    # and check it. A file the S3 gateway assembled from parts keeps S3's multipart form instead (the MD5 of the
    # parts' MD5s, "-", the number of parts). Empty for folders (and for files written before it was kept).
    md5 = models.CharField(max_length=40, blank=True, default="")
    # The storage name of the current content (files only); a new name for every write, see services.
    blob = models.CharField(max_length=255, blank=True)
    content_type = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["parent", "name"], name="files_node_unique_sibling_name"),
            models.UniqueConstraint(fields=["workspace", "path"], name="files_node_unique_path"),
            models.UniqueConstraint(fields=["workspace"], condition=Q(parent__isnull=True), name="files_node_one_root"),
        ]
        indexes = [
            # A folder's children in the order the scope picker shows them, folders first ("folder" sorts after
            # "file", hence DESC) then by name, case-insensitively: a batch is read straight from this index
            # with its LIMIT, where the sibling-name index alone makes the database sort every child first.
            models.Index(F("parent"), F("type").desc(), Lower("name"), F("name"), name="files_node_children_order"),
        ]

    def __str__(self) -> str:
        return self.public_path

    @property
    def is_folder(self) -> bool:
        return self.type == self.FOLDER

    @property
    def is_root(self) -> bool:
        return self.parent_id is None

    @property
    def public_path(self) -> str:
        """``/<workspace slug>/<names…>``, as the API and the console show it."""
        return f"/{self.workspace.slug}{self.path}"

    def contains(self, other: Node) -> bool:
        """Whether ``other`` is this node or lies below it."""
        return other.workspace_id == self.workspace_id and (
            other.path == self.path or other.path.startswith(self.path + "/")
        )


class DeadProperty(models.Model):
    """A WebDAV dead property (set by PROPPATCH) of a node. Kept on the node, so it follows renames and moves
    and goes away with the node, in every worker process."""

    # Indexed by the unique constraint (node, name), which leads with it.
    node = models.ForeignKey(Node, on_delete=models.CASCADE, related_name="dead_properties", db_index=False)
    #: Clark notation: ``{namespace}local-name``.
    name = models.CharField(max_length=1024)
    #: The property element, serialised as XML.
    value = models.TextField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["node", "name"], name="files_deadproperty_unique_name")]

    def __str__(self) -> str:
        return f"{self.node_id} {self.name}"


class DavLock(models.Model):
    """A WebDAV lock, in the shape WsgiDAV's lock manager expects (see ``files.locks.storage``). Keyed by the
    resource's URL, as WsgiDAV's lock manager is; providers drop the locks of what they delete or move."""

    token = models.CharField(max_length=100, primary_key=True)
    root = models.TextField(db_index=True)
    #: The user the lock belongs to (their uuid), never the name a client typed.
    principal = models.CharField(max_length=64)
    #: The client's ``<D:owner>`` element, as XML bytes; informational only.
    owner = models.BinaryField(blank=True)
    scope = models.CharField(max_length=9)
    type = models.CharField(max_length=5, default="write")
    depth = models.CharField(max_length=8)
    timeout = models.FloatField()
    #: Epoch seconds.
    expire = models.FloatField(db_index=True)

    def __str__(self) -> str:
        return f"{self.root} ({self.scope}, depth {self.depth})"


class PartialUpload(models.Model):
    """A file being uploaded in parts (an S3 multipart upload): its parts are kept as blobs until it is completed
    (the parts become the file's content, in the order the client names) or aborted (they go)."""

    uuid = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="partial_uploads")
    #: The public path (``/<slug>/<names…>``) the file will have.
    target = models.TextField()
    content_type = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    def __str__(self) -> str:
        return f"{self.target} ({self.uuid})"


class UploadPart(models.Model):
    # Indexed by the unique constraint (upload, number), which leads with it.
    upload = models.ForeignKey(PartialUpload, on_delete=models.CASCADE, related_name="parts", db_index=False)
    number = models.PositiveIntegerField()
    blob = models.CharField(max_length=255)
    size = models.BigIntegerField()
    md5 = models.CharField(max_length=32)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["upload", "number"], name="files_uploadpart_unique_number")]

    def __str__(self) -> str:
        return f"{self.upload_id} part {self.number}"
