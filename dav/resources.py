"""WebDAV resources over the node tree: the workspace list at ``/dav/``, folders and files below it.

Reach is asked of the request's ``files.rights.Rights`` (loaded once per request by the provider) and never
decided here: a resource exists only if the rights give it some access; writes need ``WRITE``, removals
``can_remove``. Every refusal is raised *before* anything is touched, so WsgiDAV never gets to delete or
copy part of a tree it should not. Changes go through ``files.services``; what DELETE, MOVE and COPY do is in
``dav.tree_changes``.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any, cast

from django.conf import settings
from django.db import transaction
from wsgidav import util
from wsgidav.dav_error import HTTP_METHOD_NOT_ALLOWED
from wsgidav.dav_provider import DAVCollection, DAVNonCollection

from dav.errors import Refusal, forbidden, node_error
from dav.properties import DeadPropertiesMixin, copy_dead_properties
from dav.tree_changes import TreeChanges
from files import conditions, media_types, names, services, uploads
from files.locks import write_guard
from files.models import Node
from files.rights import Access

#: Where a PUT's ``X-OC-Mtime`` waits for the upload (``dav.provider.client_mtime``).
CLIENT_MTIME = "cellsadmin.client_mtime"

if TYPE_CHECKING:
    from dav.provider import Provider

Environ = dict[str, Any]


class NodeResourceMixin(TreeChanges, DeadPropertiesMixin):
    """What folders and files share. Set by ``__init__``: the node and what the principal may do with it."""

    def _setup(self, node: Node, access: Access) -> None:
        self.node = node
        self.access = access

    def get_creation_date(self) -> float:
        return self.node.created_at.timestamp()

    def get_last_modified(self) -> float:
        return self.node.mtime.timestamp()

    def get_display_name(self) -> str:
        return self.node.name or self.node.workspace.slug

    def prevent_locking(self) -> bool:
        # A refused LOCK is a 403, like any refused write.
        return Access.WRITE not in self.access


class FolderResource(NodeResourceMixin, DAVCollection):  # type: ignore[misc]
    def __init__(self, path: str, environ: Environ, node: Node, access: Access) -> None:
        super().__init__(path, environ)
        self._setup(node, access)
        self._members: dict[str, NodeResourceMixin] | None = None

    def _children(self) -> dict[str, NodeResourceMixin]:
        if self._members is None:
            queryset = services.children(self.node).prefetch_related("dead_properties")
            self._members = {
                child.name: self.provider.resource_for(util.join_uri(self.path, child.name), self.environ, child)
                for child in self.rights.visible_children(self.node, queryset)
            }
        return self._members

    def get_member_names(self) -> list[str]:
        return list(self._children())

    def get_member_list(self) -> list[NodeResourceMixin]:
        return list(self._children().values())

    def get_member(self, name: str) -> NodeResourceMixin | None:
        return self._children().get(name)

    def require_writable(self) -> None:
        """Refuse (403) unless this folder may be written into; asked before anything is created in it."""
        if Access.WRITE not in self.access:
            raise forbidden("This folder cannot be written with this token or account.")

    def create_empty_resource(self, name: str) -> FileResource:
        self.require_writable()
        try:
            names.validate_name(name)
        except services.NodeError as error:
            raise node_error(error) from None
        path = util.join_uri(self.path, name)
        if self.environ["REQUEST_METHOD"] == "PUT":
            # WsgiDAV asks for the empty file before it reads the body; the node is created by the upload
            # itself, so a failed upload leaves nothing behind.
            return FileResource(path, self.environ, None, Access.NONE, parent=self)
        # LOCK on an unmapped URL: RFC 4918 §9.10.4 wants an empty file.
        try:
            node, _created = services.write_file(parent=self.node, name=name, stream=io.BytesIO())
        except services.NodeError as error:
            raise node_error(error) from None
        self.provider.forget(self.environ)
        return cast("FileResource", self.provider.resource_for(path, self.environ, node))

    def create_collection(self, name: str) -> None:
        self.require_writable()
        try:
            with transaction.atomic():  # the locks again where the folder is created, as for every write
                self._locks_again(write_guard.member_url(self.node, name), new_in=self.get_ref_url())
                services.create_folder(parent=self.node, name=name)
        except services.NameTaken:
            # Created by another request since WsgiDAV found nothing there (rclone's parallel transfers each
            # create the folder they upload into): the same answer as for a name that was already taken.
            raise Refusal(HTTP_METHOD_NOT_ALLOWED, context_info=f"{name!r} already exists here.") from None
        except services.NodeError as error:
            raise node_error(error) from None
        self.provider.forget(self.environ)


class FileResource(NodeResourceMixin, DAVNonCollection):  # type: ignore[misc]
    """A file; ``node`` is None for the target of a PUT that has not arrived yet (see ``create_empty_resource``)."""

    def __init__(
        self, path: str, environ: Environ, node: Node | None, access: Access, parent: FolderResource | None = None
    ) -> None:
        super().__init__(path, environ)
        self._parent = parent
        if node is not None:
            self._setup(node, access)

    def get_content_length(self) -> int:
        return self.node.size

    def get_content_type(self) -> str:
        return self.node.content_type or "application/octet-stream"

    def finalize_headers(self, environ: Environ, response_headers: list[tuple[str, str]]) -> None:
        """A GET's or HEAD's headers: the type the bytes are served as, and an attachment for what a browser
        would run (``files.media_types``; the sandbox is on every WebDAV response)."""
        response_headers[:] = [(name, value) for name, value in response_headers if name.lower() != "content-type"]
        response_headers.append(("Content-Type", media_types.served_type(self.node.content_type)))
        if media_types.is_attachment(self.node.content_type, self.node.name):
            response_headers.append(("Content-Disposition", media_types.content_disposition(self.node.name)))

    def get_etag(self) -> str:
        return self.node.etag

    def support_etag(self) -> bool:
        return True

    def support_ranges(self) -> bool:
        return True

    def get_content(self) -> Any:
        if Access.READ not in self.access:
            raise forbidden("This file cannot be read with this token.")
        # WsgiDAV seeks to a Range's start before it reads, and answers a failed first read itself (503 when the
        # store cannot be reached): the store is asked once, from there.
        return services.open_content(self.node, deferred=True)

    def begin_write(self, *, content_type: str | None = None) -> Upload:
        if self._parent is None and Access.WRITE not in self.access:
            raise forbidden("This file cannot be written with this token or account.")
        # A length that is no length was refused before the body (Provider.custom_request_handler).
        return Upload(self, uploads.declared_length(self.environ))

    def end_write(self, *, with_errors: bool) -> None:
        pass

    def receive(self, stream: services.Readable) -> None:
        """Store the uploaded bytes as this file's content (creating the node for a new file)."""
        if self._parent is not None:
            parent, name, content_type = self._parent.node, util.get_uri_name(self.path), ""
        else:
            assert self.node.parent is not None
            parent, name, content_type = self.node.parent, self.node.name, self.node.content_type
        try:
            node, _created = services.write_file(
                parent=parent,
                name=name,
                stream=stream,
                max_size=settings.MAX_UPLOAD_SIZE,
                content_type=content_type,
                precondition=self._write_guard(),
                mtime=self.environ.get(CLIENT_MTIME),
                found=self._parent is None,  # WsgiDAV found the file: this replaces it
            )
        except services.NodeError as error:
            raise node_error(error) from None
        self._setup(node, self.rights.access(node))
        self._parent = None
        self.provider.forget(self.environ)

    def _write_guard(self) -> write_guard.WriteGuard:
        """The locks and a PUT's conditions (If-Match, If-None-Match, If-Unmodified-Since, and the entity tags
        of an ``If:`` header where WsgiDAV evaluated one: over a file that existed), asked again where the upload
        is written: another process may have granted a lock while the body arrived, another client replaced the
        version. WsgiDAV has asked them before the body (the locks only for a large body or one sent with lock
        tokens: ``files.locks.write_guard.checked_before_body``)."""
        environ = self.environ
        url = self.get_ref_url()
        put = environ["REQUEST_METHOD"] == "PUT"
        headers = (
            environ.get("HTTP_IF_MATCH"),
            environ.get("HTTP_IF_NONE_MATCH"),
            environ.get("HTTP_IF_UNMODIFIED_SINCE"),
        )
        return write_guard.WriteGuard(
            lambda url, new_in: self._locks_again(url, new_in=new_in),
            url=url,
            folder_url=write_guard.folder_of(url),
            conditions=conditions.from_headers(*headers) if put else None,
            if_header=write_guard.if_header_check(self, environ) if put and self._parent is None else None,
        )

    def replace_with(self, source: Node) -> None:
        with services.open_content(source) as handle:
            self.receive(handle)
        copy_dead_properties(source, self.node)


class WorkspaceList(DAVCollection):  # type: ignore[misc]
    """``/dav/``: one collection per workspace the principal reaches, named by its slug. Nothing is written
    here: workspaces are made by administrators."""

    provider: Provider

    def __init__(self, environ: Environ) -> None:
        super().__init__("/", environ)
        self._members: dict[str, FolderResource] | None = None

    def _children(self) -> dict[str, FolderResource]:
        if self._members is None:
            rights = self.provider.rights(self.environ)
            roots = (
                Node.objects.filter(parent__isnull=True, workspace__in=rights.visible_workspaces())
                .select_related("workspace")
                .prefetch_related("dead_properties")
                .order_by("workspace__slug")
            )
            self._members = {
                root.workspace.slug: cast(
                    "FolderResource", self.provider.resource_for(f"/{root.workspace.slug}", self.environ, root)
                )
                for root in roots
            }
        return self._members

    def get_member_names(self) -> list[str]:
        return list(self._children())

    def get_member_list(self) -> list[FolderResource]:
        return list(self._children().values())

    def get_member(self, name: str) -> FolderResource | None:
        return self._children().get(name)

    def get_display_name(self) -> str:
        return "dav"

    def prevent_locking(self) -> bool:
        return True

    def handle_delete(self) -> bool:
        raise forbidden("Workspaces cannot be deleted over WebDAV.")

    def handle_move(self, dest_path: str) -> bool:
        raise forbidden("Workspaces cannot be moved over WebDAV.")

    def handle_copy(self, dest_path: str, *, depth_infinity: bool) -> bool:
        raise forbidden("Workspaces cannot be copied over WebDAV.")

    def create_empty_resource(self, name: str) -> None:
        raise forbidden("Only workspaces live at the top level.")

    def create_collection(self, name: str) -> None:
        raise forbidden("Workspaces are created by administrators.")


# A WebDAV upload's body on its way into files.services.write_file: WsgiDAV hands a PUT's body to the object
# begin_write returns as an iterable of chunks, read against the declared length (files.uploads.DeclaredBody)
# so that a body cut short is refused rather than stored as the whole file.


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
        environ = self._resource.environ
        if self._expected is not None and (direct := uploads.SocketBody.of(environ["wsgi.input"], self._expected)):
            # Under gunicorn, the body straight from the socket into the blob (files.uploads.SocketBody); WsgiDAV's
            # chunks, which would read it, are then only run to their end, for WsgiDAV to see it all read.
            self._resource.receive(direct)
            for _chunk in chunks:
                pass
            return
        self._resource.receive(uploads.DeclaredBody(ChunkStream(chunks), self._expected))

    def close(self) -> None:
        pass
