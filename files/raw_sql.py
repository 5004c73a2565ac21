"""Plain statements for the tree's hottest paths: path and scope lookups, a new file's row, and the dead
properties of a listing.

A client uploading many small files (rclone, a sync tool) pays these on every file, and building them through
the ORM costs several times what the database takes to answer them (an INSERT compiled per upload, a join
and an OR for the properties). Like ``tokens.lookup``, the statements are written once per database alias
from the models' own metadata, and values go through the fields' own conversions (``lib.rows``),
exactly as the ORM's would.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connections, transaction

from files.models import Grant, Node, Workspace
from lib.rows import Columns, columns


@dataclass(frozen=True)
class _NodeQuery:
    sql: str
    columns: Columns


_node_queries: dict[tuple[str, int, bool], _NodeQuery] = {}
# The workspace columns a resolved node carries (its creation date is left out: nothing here reads it).
_WORKSPACE_FIELDS = ("uuid", "slug", "label")


@dataclass(frozen=True)
class WorkspaceGrant:
    """What a user's grants (their own and their groups') give on one workspace."""

    workspace_id: uuid.UUID
    #: Any grant at all.
    read: bool
    #: A read+write grant.
    write: bool


def _node_query(alias: str, count: int, *, with_grant: bool) -> _NodeQuery:
    quote = connections[alias].ops.quote_name
    workspace_fields = [field for field in Workspace._meta.concrete_fields if field.attname in _WORKSPACE_FIELDS]
    selected = columns(alias, (Node, "n", None), (Workspace, "w", workspace_fields))
    grant = ""
    if with_grant:
        members = get_user_model().groups.through._meta
        granted = (
            f"SELECT 1 FROM {quote(Grant._meta.db_table)} g WHERE g.{quote('workspace_id')} = w.{quote('uuid')}"  # noqa: S608
            f" AND (g.{quote('user_id')} = %(grantee)s OR g.{quote('group_id')} IN"
            f" (SELECT m.{quote('group_id')} FROM {quote(members.db_table)} m"
            f" WHERE m.{quote('user_id')} = %(grantee)s))"
        )
        grant = f", EXISTS ({granted}), EXISTS ({granted} AND g.{quote('level')} = %(read_write)s)"
    paths = ", ".join(f"%(path{index})s" for index in range(count))
    sql = (
        f"SELECT {selected.select}{grant} FROM {quote(Node._meta.db_table)} n"  # noqa: S608 (names from metadata)
        f" INNER JOIN {quote(Workspace._meta.db_table)} w ON w.{quote('uuid')} = n.{quote('workspace_id')}"
        f" WHERE w.{quote('slug')} = %(slug)s AND n.{quote('path')} IN ({paths})"
    )
    return _NodeQuery(sql=sql, columns=selected)


def nodes_at(
    slug: str, paths: list[str], alias: str = "default", *, grantee: int | None = None
) -> tuple[dict[str, Node], WorkspaceGrant | None]:
    """The nodes at ``paths`` (``""``, ``"/a/b"``) in the workspace ``slug``, by path, each with its workspace
    attached as select_related would: one statement, prepared once per number of paths.

    With ``grantee`` (a user's primary key), the same statement also reads what that user's grants give on the
    workspace (when any path was found): the path lookup of a request and its rights in one round trip.
    """
    key = (alias, len(paths), grantee is not None)
    plan = _node_queries.get(key)
    if plan is None:
        plan = _node_queries[key] = _node_query(alias, len(paths), with_grant=grantee is not None)
    # Named parameters: Django's SQLite cursor fills them in with one % instead of a regular expression over
    # the whole statement, which was a tenth of a lookup.
    params: dict[str, str | int] = {"slug": slug, **{f"path{index}": path for index, path in enumerate(paths)}}
    if grantee is not None:
        params.update(grantee=grantee, read_write=Grant.READ_WRITE)
    with connections[alias].cursor() as cursor:
        cursor.execute(plan.sql, params)
        rows = cursor.fetchall()
    found: dict[str, Node] = {}
    grant = None
    for row in rows:
        if grantee is not None:
            row, (read, write) = row[:-2], row[-2:]
        node, workspace = plan.columns.instances(row, alias)
        assert isinstance(node, Node)
        node.workspace = workspace  # type: ignore[assignment]
        found[node.path] = node
        if grantee is not None:
            grant = WorkspaceGrant(node.workspace_id, read=bool(read), write=bool(write))
    return found, grant


_by_key_queries: dict[tuple[str, int], _NodeQuery] = {}


def _by_key_query(alias: str, count: int) -> _NodeQuery:
    quote = connections[alias].ops.quote_name
    selected = columns(alias, (Node, "n", None))
    keys = ", ".join(["%s"] * count)
    table, key = quote(Node._meta.db_table), quote(Node._meta.pk.column)
    sql = f"SELECT {selected.select} FROM {table} n WHERE n.{key} IN ({keys})"  # noqa: S608 (names from metadata)
    return _NodeQuery(sql=sql, columns=selected)


def nodes_by_key(keys: list[uuid.UUID], alias: str = "default") -> dict[uuid.UUID, Node]:
    """The nodes with these primary keys, by key (``in_bulk``), in one statement prepared once per count: the
    nodes of a scoped token's scopes, read on each of its requests."""
    if not keys:
        return {}
    plan = _by_key_queries.get((alias, len(keys)))
    if plan is None:
        plan = _by_key_queries[alias, len(keys)] = _by_key_query(alias, len(keys))
    connection = connections[alias]
    with connection.cursor() as cursor:
        cursor.execute(plan.sql, [Node._meta.pk.get_db_prep_value(key, connection) for key in keys])
        rows = cursor.fetchall()
    found: dict[uuid.UUID, Node] = {}
    for row in rows:
        (node,) = plan.columns.instances(row, alias)
        assert isinstance(node, Node)
        found[node.pk] = node
    return found


@dataclass(frozen=True)
class SqlCondition:
    """A condition over other tables that a write states in its own statement (named parameters)."""

    sql: str
    params: dict[str, Any]
    #: Run first, in a transaction that the statement then runs in: what orders the statement's read against
    #: other writers where the statement alone does not (None: the statement alone does).
    ordered_by: Callable[[], None] | None = None


@dataclass(frozen=True)
class _Insert:
    columns: str
    values: str


_inserts: dict[str, _Insert] = {}


def _insert(alias: str) -> _Insert:
    quote = connections[alias].ops.quote_name
    fields = Node._meta.concrete_fields
    return _Insert(
        columns=f"{quote(Node._meta.db_table)} ({', '.join(quote(field.column) for field in fields)})",
        values=", ".join(f"%({field.attname})s" for field in fields),
    )


def insert_new_node(node: Node, alias: str = "default", *, only_if: SqlCondition | None = None) -> bool:
    """Insert ``node`` (not yet saved) unless its name or path is taken (or ``only_if`` does not hold): whether
    it was inserted.

    One statement, and no exception when the name is taken: inside a transaction nothing needs rolling back,
    outside one the row is committed by the statement itself. No conflict target: any unique constraint (a
    sibling of that name, the same path) means "taken"; foreign keys and checks still raise, unlike SQLite's
    INSERT OR IGNORE.
    """
    insert = _inserts.get(alias)
    if insert is None:
        insert = _inserts[alias] = _insert(alias)
    connection = connections[alias]
    # pre_save as Model.save does on an insert (it stamps created_at).
    values: dict[str, Any] = {
        field.attname: field.get_db_prep_save(field.pre_save(node, add=True), connection)
        for field in Node._meta.concrete_fields
    }
    if only_if is None:
        sql = f"INSERT INTO {insert.columns} VALUES ({insert.values}) ON CONFLICT DO NOTHING"  # noqa: S608 (names from metadata)
    else:
        # SELECT … WHERE, so that the row goes in only where the condition holds, read by the same statement.
        sql = f"INSERT INTO {insert.columns} SELECT {insert.values} WHERE {only_if.sql} ON CONFLICT DO NOTHING"
        values.update(only_if.params)
    ordered_by = only_if.ordered_by if only_if is not None else None
    with transaction.atomic(using=alias) if ordered_by is not None else nullcontext():
        if ordered_by is not None:
            ordered_by()
        with connection.cursor() as cursor:
            cursor.execute(sql, values)  # named parameters, as in nodes_at
            inserted: bool = cursor.rowcount == 1
    if inserted:
        node._state.adding = False
        node._state.db = alias
    return inserted


_DEAD_PROPERTIES = "SELECT node_id, name, value FROM files_deadproperty WHERE node_id = %s ORDER BY id"
_DEAD_PROPERTIES_WITH_CHILDREN = (
    "SELECT node_id, name, value FROM files_deadproperty"
    " WHERE node_id = %s OR node_id IN (SELECT uuid FROM files_node WHERE parent_id = %s) ORDER BY id"
)


def dead_properties(node: Node, *, with_children: bool, alias: str = "default") -> list[tuple[uuid.UUID, str, str]]:
    """(node uuid, name, serialised value) of the dead properties of ``node`` (and of its children), in the
    order they were set."""
    connection = connections[alias]
    key = Node._meta.pk.get_db_prep_value(node.pk, connection)
    with connection.cursor() as cursor:
        if with_children:
            cursor.execute(_DEAD_PROPERTIES_WITH_CHILDREN, [key, key])
        else:
            cursor.execute(_DEAD_PROPERTIES, [key])
        rows = cursor.fetchall()
    # SQLite hands UUIDs back as hex text, PostgreSQL as UUIDs.
    return [
        (row_id if isinstance(row_id, uuid.UUID) else uuid.UUID(row_id), name, value) for row_id, name, value in rows
    ]
