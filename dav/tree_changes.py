"""What WebDAV's DELETE, MOVE and COPY do with a node's resource: every check first, before WsgiDAV touches
anything, and each change in one transaction that reads the locks again where it takes place.

WsgiDAV's own way (delete, then copy or move member by member) could leave half a tree, or lose a destination
when a move failed; here a folder's copy lands whole or not at all, and a replaced destination is kept if the
change fails. Reach is asked of the request's ``files.rights.Rights``, never decided here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import transaction
from wsgidav import util
from wsgidav.dav_error import HTTP_LOCKED, DAVError, DAVErrorCondition, PRECONDITION_CODE_LockConflict

from dav.errors import forbidden, node_error, shielded
from files import copies, services
from files.locks import ordering, write_guard
from files.models import Node
from files.rights import Access, Rights

if TYPE_CHECKING:
    from dav.provider import Provider

Environ = dict[str, Any]

#: Set by a COPY that created its destination: the answer is then 201, not WsgiDAV's 204.
COPIED_TO_NEW = "cellsadmin.copied_to_new"


class TreeChanges:
    """For the resources over a node (``dav.resources``), which set these attributes."""

    path: str
    environ: Environ
    provider: Provider
    node: Node
    access: Access

    if TYPE_CHECKING:  # WsgiDAV's DAVResource has these; FileResource has replace_with

        @property
        def is_collection(self) -> bool: ...

        def get_ref_url(self) -> str: ...

        def remove_all_locks(self, *, recursive: bool) -> None: ...

        def replace_with(self, source: Node) -> None: ...

    @property
    def rights(self) -> Rights:
        return self.provider.rights(self.environ)

    def _require_removable(self) -> None:
        if not self.rights.can_remove(self.node):
            raise forbidden("This cannot be deleted, moved or replaced with this token or account.")

    def _writable_folder(self, path: str) -> TreeChanges:
        folder = self.provider.get_resource_inst(path, self.environ)
        if not isinstance(folder, TreeChanges) or not folder.is_collection or Access.WRITE not in folder.access:
            raise forbidden("The destination folder cannot be written.")
        return folder

    def _existing(self, path: str) -> TreeChanges | None:
        existing = self.provider.get_resource_inst(path, self.environ)
        if existing is not None and not isinstance(existing, TreeChanges):
            raise forbidden("The workspace list cannot be replaced.")
        return existing

    # --- DELETE / MOVE / COPY: every check first, before WsgiDAV touches anything ---------------------------

    @shielded
    def handle_delete(self) -> bool:
        self._require_removable()
        # The locks are read in the transaction that deletes: none granted elsewhere can slip in between.
        with transaction.atomic():
            ordering.hold_off_lock_requests()
            self._check_locks_in_subtree()
            self.delete()
        return True

    def _locks_again(self, url: str, *, new_in: str | None, depth: str = "0") -> None:
        """WsgiDAV's check of this request's locks before it writes, made again in the transaction that writes
        (``files.locks.ordering.check_still_writable``)."""
        ordering.check_still_writable(
            self.provider.lock_manager,
            url=url,
            new_in=new_in,
            token_list=self.environ.get("wsgidav.ifLockTokenList", []),
            principal=self.environ["wsgidav.user_name"],
            depth=depth,
        )

    def _check_locks_in_subtree(self) -> None:
        """423 unless every lock on this resource, its ancestors and its descendants is the requester's and was
        submitted. WsgiDAV checks descendants only when it deletes child by child; we delete in one go."""
        lock_manager = self.provider.lock_manager
        url = self.get_ref_url()
        tokens = self.environ["wsgidav.ifLockTokenList"]
        principal = self.environ["wsgidav.user_name"]
        lock_manager.check_write_permission(url=url, depth="0", token_list=tokens, principal=principal)
        conflicts = DAVErrorCondition(PRECONDITION_CODE_LockConflict)
        for lock in lock_manager.storage.get_lock_list(
            url, include_root=False, include_children=True, token_only=False
        ):
            if lock["principal"] != principal or lock["token"] not in tokens:
                conflicts.add_href(lock["root"])
        if conflicts.hrefs:
            raise DAVError(HTTP_LOCKED, err_condition=conflicts)

    @shielded
    def delete(self) -> list[Any]:
        self._require_removable()
        services.delete(self.node)
        self.remove_all_locks(recursive=True)
        self.provider.forget(self.environ)
        return []

    @shielded
    def handle_move(self, dest_path: str) -> bool:
        self._require_removable()
        folder = self._writable_folder(util.get_uri_parent(dest_path))
        existing = self._existing(dest_path)
        if existing is None:
            return False  # WsgiDAV goes on to move_recursive.
        existing._require_removable()
        if existing.node.contains(self.node):
            raise forbidden("A resource cannot be moved onto a folder that holds it.")
        # Over an existing destination WsgiDAV would delete it first and then move, so a move that failed would
        # have lost the destination. Both go in one transaction here: the destination is replaced or kept.
        with transaction.atomic():
            source = self.get_ref_url()
            self._locks_again(source, new_in=util.get_uri_parent(source), depth="infinity")
            self._locks_again(existing.get_ref_url(), new_in=None, depth="infinity")
            services.delete(existing.node)
            try:
                services.move(node=self.node, parent=folder.node, name=util.get_uri_name(dest_path))
            except services.NodeError as error:
                raise node_error(error) from None
        # Locks belong to URLs (RFC 4918 §7.7): the destination's went with it, the source's stay behind.
        existing.remove_all_locks(recursive=True)
        self.remove_all_locks(recursive=True)
        self.provider.forget(self.environ)
        return True  # WsgiDAV answers 204 No Content: the destination existed.

    @shielded
    def handle_copy(self, dest_path: str, *, depth_infinity: bool) -> bool:
        """Every COPY, in one go: the copy of a whole folder lands complete or not at all, rather than member by
        member as WsgiDAV would (a failure halfway left half a tree and a 207)."""
        if Access.READ not in self.access:
            raise forbidden("This cannot be read with this token.")
        folder = self._writable_folder(util.get_uri_parent(dest_path))
        existing = self._existing(dest_path)
        if (
            not self.is_collection
            and existing is not None
            and not existing.is_collection
            and Access.WRITE in existing.access
        ):
            # File over file: replace the content in place (atomic), rather than WsgiDAV's delete + create.
            existing.replace_with(self.node)
            return True
        if existing is not None:
            existing._require_removable()
            if existing.node.contains(self.node):
                raise forbidden("A resource cannot be copied onto a folder that holds it.")
        name = util.get_uri_name(dest_path)

        def guard() -> None:
            # The destination's locks, again where the copy is written (duplicating the contents takes time).
            if existing is None:
                self._locks_again(write_guard.member_url(folder.node, name), new_in=folder.get_ref_url())
            else:
                depth = "infinity" if existing.is_collection else "0"
                self._locks_again(existing.get_ref_url(), new_in=None, depth=depth)

        try:
            copies.copy(
                node=self.node,
                parent=folder.node,
                name=name,
                members=depth_infinity,
                replacing=existing.node if existing is not None else None,
                guard=guard,
            )
        except services.NodeError as error:
            raise node_error(error) from None
        if existing is None:
            self.environ[COPIED_TO_NEW] = True
        self.provider.forget(self.environ)
        return True  # WsgiDAV answers 204; the provider makes it 201 when there was no destination.

    def support_recursive_move(self, dest_path: str) -> bool:
        # Files too: WsgiDAV's default asserts a collection and would answer every file MOVE with 500.
        return True

    @shielded
    def move_recursive(self, dest_path: str) -> list[Any]:
        folder = self._writable_folder(util.get_uri_parent(dest_path))
        name = util.get_uri_name(dest_path)
        try:
            with transaction.atomic():
                source = self.get_ref_url()
                self._locks_again(source, new_in=util.get_uri_parent(source), depth="infinity")
                self._locks_again(write_guard.member_url(folder.node, name), new_in=folder.get_ref_url())
                services.move(node=self.node, parent=folder.node, name=name)
        except services.NodeError as error:
            raise node_error(error) from None
        # Locks belong to URLs; they do not travel with the node (RFC 4918 §7.7).
        self.remove_all_locks(recursive=True)
        self.provider.forget(self.environ)
        return []
