"""What a (user, scopes) may do with a node: the one place that decides it.

The REST API, WebDAV and the console's scope picker all ask :func:`rights_for` (or its shortcut
:func:`node_access`) and never decide reach themselves.

Rules:

- The owner's reach is the union of their grants on workspaces (directly or through a group): ``read`` or
  ``read+write`` on a workspace's whole tree. An inactive user reaches nothing.
- A token without node scopes has the owner's reach.
- ``node:*:<perm>`` reaches every node the owner reaches, now or later, with that permission intersected with the
  owner's current grant: ``node:*:r`` reads everything and writes nothing. Beside other node scopes it adds up
  with them, as node scopes do.
- A scoped token reaches each scoped node and its descendants with the scope's permission intersected with the
  owner's *current* grant; ancestors of a scoped node are traverse-only: they can be stat-ed and listed, but a
  listing shows only the branch that leads to scoped nodes. Everything else does not exist for the token.
- ``w`` without ``r`` lists but does not read content. Writing means creating, overwriting, renaming, moving and
  deleting *inside* a writable subtree: the scoped node itself (and a workspace root) can be written into,
  never removed or moved away (:meth:`Rights.can_remove`).
- A scope whose node is gone grants nothing: it never turns into "no scopes".
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.db.models import QuerySet

from files import raw_sql
from files.models import Grant, Node, Workspace
from files.scopes import Scope

if TYPE_CHECKING:
    from people.models import User


class Access(enum.IntFlag):
    NONE = 0
    #: The node exists for the caller: stat it, list the branch that leads to what the caller reaches.
    TRAVERSE = 1
    #: List every child.
    LIST = 2
    #: Read file content.
    READ = 4
    #: Create, overwrite, rename, move and delete inside.
    WRITE = 8


OWNER_READ = Access.TRAVERSE | Access.LIST | Access.READ
OWNER_WRITE = OWNER_READ | Access.WRITE


def _scope_access(scope: Scope) -> Access:
    access = Access.TRAVERSE | Access.LIST
    if scope.read:
        access |= Access.READ
    if scope.write:
        access |= Access.WRITE
    return access


def _is_within(path: str, ancestor_path: str) -> bool:
    return path == ancestor_path or path.startswith(ancestor_path + "/")


@dataclass
class Rights:
    """The reach of one (user, scopes), loaded once (one or two queries) and then answered in memory.

    The owner's grants are read when first needed, all at once; a path lookup may bring the grant on the
    workspace it resolves in along in its own query (``paths.resolve_paths(…, rights=…)``), and then a
    request that stays in that workspace (most WebDAV requests) reads no other grant.
    """

    user: User
    #: None for an unscoped principal; otherwise each scope that names a node, with that node as it is now (None
    #: if gone).
    scopes: list[tuple[Scope, Node | None]] | None = field(default=None)
    #: What the ``node:*`` scopes give on every node the owner reaches (before the owner's grant there).
    everywhere: Access = Access.NONE
    #: workspace uuid → the owner's access there (union of their grants), as far as it has been read.
    _grants: dict[uuid.UUID, Access] = field(default_factory=dict)
    #: Whether ``_grants`` holds every grant (an absent workspace is then one without a grant).
    _all_read: bool = False

    @property
    def grants(self) -> dict[uuid.UUID, Access]:
        """workspace uuid → the owner's access there (union of their grants), for every granted workspace."""
        if not self._all_read:
            self._grants = _owner_grants(self.user)
            self._all_read = True
        return self._grants

    def grant(self, workspace_id: uuid.UUID) -> Access:
        """The owner's access to one workspace (no query when it is already known)."""
        known = self._grants.get(workspace_id)
        if known is not None:
            return known
        return self.grants.get(workspace_id, Access.NONE)

    @property
    def grantee(self) -> int | None:
        """The user whose grant a path lookup should bring along, or None when there is nothing left to read."""
        return None if self._all_read or not self.user.is_active else self.user.pk

    def note_grant(self, workspace_id: uuid.UUID, *, read: bool, write: bool) -> None:
        """What a path lookup read of the grantee's grants on one workspace: any grant, any read+write one."""
        if not self._all_read:
            self._grants[workspace_id] = OWNER_WRITE if write else OWNER_READ if read else Access.NONE

    @property
    def is_scoped(self) -> bool:
        return self.scopes is not None

    def _live_scopes(self, workspace_id: uuid.UUID) -> Iterable[tuple[Scope, Node]]:
        for scope, node in self.scopes or ():
            if node is not None and node.workspace_id == workspace_id:
                yield scope, node

    def workspace_access(self, workspace_id: uuid.UUID) -> Access:
        """Access to a workspace's root; NONE hides the whole workspace."""
        grant = self.grant(workspace_id)
        if not grant or not self.is_scoped:
            return grant
        access = self.everywhere & grant
        for scope, node in self._live_scopes(workspace_id):
            access |= (_scope_access(scope) & grant) if node.is_root else Access.TRAVERSE
        return access

    def access(self, node: Node) -> Access:
        """What the principal may do with ``node``."""
        return self.access_at(node.workspace_id, node.path)

    def access_at(self, workspace_id: uuid.UUID, path: str) -> Access:
        """What the principal may do with the node at ``path`` in a workspace: for listings that read rows,
        not model instances (a thousand children cost no thousand model instances)."""
        grant = self.grant(workspace_id)
        if not grant or not self.is_scoped:
            return grant
        access = self.everywhere & grant
        for scope, scoped in self._live_scopes(workspace_id):
            if _is_within(path, scoped.path):
                access |= _scope_access(scope) & grant
            elif _is_within(scoped.path, path):
                access |= Access.TRAVERSE
        return access

    def can_remove(self, node: Node) -> bool:
        """Whether ``node`` may be deleted, renamed or moved away: write access strictly inside a subtree."""
        if node.is_root:
            return False
        grant = self.grant(node.workspace_id)
        if not self.is_scoped:
            return Access.WRITE in grant
        if Access.WRITE not in grant:
            return False
        if Access.WRITE in self.everywhere:
            return True
        return any(
            scope.write and node.path.startswith(scoped.path + "/")
            for scope, scoped in self._live_scopes(node.workspace_id)
        )

    def visible_children(self, parent: Node, children: QuerySet[Node] | None = None) -> QuerySet[Node]:
        """The children of ``parent`` that exist for the principal (one query when evaluated)."""
        queryset = children if children is not None else Node.objects.filter(parent=parent)
        access = self.access(parent)
        if Access.LIST in access:
            return queryset
        if Access.TRAVERSE not in access:
            return queryset.none()
        prefix = parent.path + "/"
        names = {
            scoped.path[len(prefix) :].split("/", 1)[0]
            for _scope, scoped in self._live_scopes(parent.workspace_id)
            if scoped.path.startswith(prefix)
        }
        return queryset.filter(name__in=names)

    def visible_workspaces(self) -> QuerySet[Workspace]:
        ids = [ws for ws in self.grants if self.workspace_access(ws)]
        return Workspace.objects.filter(uuid__in=ids)


def _owner_grants(user: User) -> dict[uuid.UUID, Access]:
    grants: dict[uuid.UUID, Access] = {}
    if user.is_active:
        for workspace_id, level in raw_sql.grant_rows(user.pk):
            access = OWNER_WRITE if level == Grant.READ_WRITE else OWNER_READ
            grants[workspace_id] = grants.get(workspace_id, Access.NONE) | access
    return grants


def rights_for(user: User, scopes: Sequence[Scope] = (), *, nodes: Mapping[uuid.UUID, Node] | None = None) -> Rights:
    """The reach of ``user``, narrowed to the node ``scopes`` when the request came with a scoped token (none:
    the user's own reach). The scopes' nodes are read here, unless the caller has them (``nodes``, by uuid); the
    owner's grants when first needed."""
    if not scopes:
        return Rights(user=user)
    everywhere = Access.NONE
    named: list[tuple[Scope, uuid.UUID]] = []
    for scope in scopes:
        if scope.node is None:
            everywhere |= _scope_access(scope)
        else:
            named.append((scope, scope.node))
    if nodes is None:
        nodes = raw_sql.nodes_by_key([node for _scope, node in named])
    return Rights(user=user, scopes=[(scope, nodes.get(node)) for scope, node in named], everywhere=everywhere)


def node_access(user: User, scopes: Sequence[Scope], node: Node) -> Access:
    """Shortcut for one node; prefer :func:`rights_for` when asking about many."""
    return rights_for(user, scopes).access(node)
