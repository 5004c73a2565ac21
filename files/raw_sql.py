"""Every plain SQL statement of the file domain, written from the models' metadata.

The tree's hottest paths run these on every request or upload: path and scope lookups, a user's grants, a new
file's row, the dead properties of a listing, the WebDAV locks over a URL, and the advisory lock that orders
writes against LOCK requests on PostgreSQL. Building them through the ORM costs several times what the database
takes to answer them. Table and column names come from ``_meta`` (``db_table``, ``field.column``), quoted by
the connection; values are parameters and go through the fields' own conversions (``lib.rows``), so a row
turns into what the ORM's equivalent query would give. Statements are written once per database alias (and per
number of values in their ``IN`` lists), then reused. ``tests/files/test_raw_sql.py`` runs each one beside the
ORM query it stands for, on the same data.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connections, transaction
from django.db.models import Model

from files.models import DavLock, DeadProperty, Grant, Node, Workspace
from lib import prepared
from lib.rows import Columns, column, columns, mark_saved


def _quote(alias: str) -> Callable[[str], str]:
    quote: Callable[[str], str] = connections[alias].ops.quote_name
    return quote


def _table(model: type[Model], alias: str) -> str:
    return _quote(alias)(model._meta.db_table)


def _column(model: type[Model], name: str, alias: str) -> str:
    """The quoted column of the field ``name`` (``"workspace"`` gives its ``workspace_id`` column)."""
    return _quote(alias)(column(model, name))


def _uuid(value: Any) -> uuid.UUID:
    # SQLite hands UUIDs back as hex text, PostgreSQL as UUIDs.
    return value if isinstance(value, uuid.UUID) else uuid.UUID(value)


@dataclass(frozen=True)
class _NodeQuery:
    sql: str
    columns: Columns


# --- Nodes by path and by key ----------------------------------------------------------------------------------

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


def _grantee_workspaces(alias: str) -> str:
    """A condition on the grant table (aliased ``g``): the grant is to the user ``%(grantee)s`` or to one of
    their groups."""
    members = get_user_model().groups.through
    return (
        f"g.{_column(Grant, 'user', alias)} = %(grantee)s OR g.{_column(Grant, 'group', alias)} IN"  # noqa: S608 (names from metadata)
        f" (SELECT m.{_column(members, 'group', alias)} FROM {_table(members, alias)} m"
        f" WHERE m.{_column(members, 'user', alias)} = %(grantee)s)"
    )


def _node_query(alias: str, count: int, *, with_grant: bool) -> _NodeQuery:
    workspace_fields = [field for field in Workspace._meta.concrete_fields if field.attname in _WORKSPACE_FIELDS]
    selected = columns(alias, (Node, "n", None), (Workspace, "w", workspace_fields))
    workspace_key = f"w.{_column(Workspace, 'uuid', alias)}"
    grant = ""
    if with_grant:
        granted = (
            f"SELECT 1 FROM {_table(Grant, alias)} g WHERE g.{_column(Grant, 'workspace', alias)} = {workspace_key}"  # noqa: S608 (names from metadata)
            f" AND ({_grantee_workspaces(alias)})"
        )
        grant = f", EXISTS ({granted}), EXISTS ({granted} AND g.{_column(Grant, 'level', alias)} = %(read_write)s)"
    paths = ", ".join(f"%(path{index})s" for index in range(count))
    sql = (
        f"SELECT {selected.select}{grant} FROM {_table(Node, alias)} n"  # noqa: S608 (names from metadata)
        f" INNER JOIN {_table(Workspace, alias)} w ON {workspace_key} = n.{_column(Node, 'workspace', alias)}"
        f" WHERE w.{_column(Workspace, 'slug', alias)} = %(slug)s AND n.{_column(Node, 'path', alias)} IN ({paths})"
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
    # the whole statement.
    params: dict[str, str | int] = {"slug": slug, **{f"path{index}": path for index, path in enumerate(paths)}}
    if grantee is not None:
        params.update(grantee=grantee, read_write=Grant.READ_WRITE)
    with prepared.cursor(alias) as cursor:
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
    selected = columns(alias, (Node, "n", None))
    keys = ", ".join(["%s"] * count)
    key = _quote(alias)(Node._meta.pk.column)
    sql = f"SELECT {selected.select} FROM {_table(Node, alias)} n WHERE n.{key} IN ({keys})"  # noqa: S608 (names from metadata)
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
    with prepared.cursor(alias) as cursor:
        cursor.execute(plan.sql, [Node._meta.pk.get_db_prep_value(key, connection) for key in keys])
        rows = cursor.fetchall()
    found: dict[uuid.UUID, Node] = {}
    for row in rows:
        (node,) = plan.columns.instances(row, alias)
        assert isinstance(node, Node)
        found[node.pk] = node
    return found


# --- Grants ------------------------------------------------------------------------------------------------------

_grant_queries: dict[str, str] = {}


def _grant_query(alias: str) -> str:
    return (
        f"SELECT g.{_column(Grant, 'workspace', alias)}, g.{_column(Grant, 'level', alias)}"  # noqa: S608 (names from metadata)
        f" FROM {_table(Grant, alias)} g WHERE {_grantee_workspaces(alias)}"
    )


def grant_rows(user_id: int, alias: str = "default") -> list[tuple[uuid.UUID, str]]:
    """(workspace, level) of each grant to the user ``user_id``, directly or through a group."""
    sql = _grant_queries.get(alias)
    if sql is None:
        sql = _grant_queries[alias] = _grant_query(alias)
    with prepared.cursor(alias) as cursor:
        cursor.execute(sql, {"grantee": user_id})
        rows = cursor.fetchall()
    return [(_uuid(key), level) for key, level in rows]


# --- A new file's row --------------------------------------------------------------------------------------------


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
    quote = _quote(alias)
    fields = Node._meta.concrete_fields
    return _Insert(
        columns=f"{_table(Node, alias)} ({', '.join(quote(field.column) for field in fields)})",
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
    if ordered_by is not None and prepared.in_one_round_trip(alias):
        # PostgreSQL outside a transaction: what orders the write (the advisory lock) and the INSERT as one
        # transaction of their own, sent together; the INSERT still reads the locks once the advisory lock is held.
        with prepared.cursor(alias) as cursor:
            with prepared.one_round_trip(alias):
                ordered_by()
                cursor.execute(sql, values)
            inserted: bool = cursor.rowcount == 1
    else:
        with transaction.atomic(using=alias) if ordered_by is not None else nullcontext():
            if ordered_by is not None:
                ordered_by()
            with prepared.cursor(alias) as cursor:
                cursor.execute(sql, values)  # named parameters, as in nodes_at
                inserted = cursor.rowcount == 1
    if inserted:
        mark_saved(node, alias)
    return inserted


# --- Dead properties ---------------------------------------------------------------------------------------------

_dead_property_queries: dict[tuple[str, bool], str] = {}


def _dead_property_query(alias: str, *, with_children: bool) -> str:
    node = _column(DeadProperty, "node", alias)
    where = f"{node} = %(node)s"
    if with_children:
        children = (
            f"SELECT {_quote(alias)(Node._meta.pk.column)} FROM {_table(Node, alias)}"  # noqa: S608 (names from metadata)
            f" WHERE {_column(Node, 'parent', alias)} = %(node)s"
        )
        where += f" OR {node} IN ({children})"
    selected = ", ".join(_column(DeadProperty, name, alias) for name in ("node", "name", "value"))
    order = _quote(alias)(DeadProperty._meta.pk.column)
    return f"SELECT {selected} FROM {_table(DeadProperty, alias)} WHERE {where} ORDER BY {order}"  # noqa: S608 (names from metadata)


def dead_properties(node: Node, *, with_children: bool, alias: str = "default") -> list[tuple[uuid.UUID, str, str]]:
    """(node uuid, name, serialised value) of the dead properties of ``node`` (and of its children), in the
    order they were set."""
    sql = _dead_property_queries.get((alias, with_children))
    if sql is None:
        sql = _dead_property_queries[alias, with_children] = _dead_property_query(alias, with_children=with_children)
    connection = connections[alias]
    with prepared.cursor(alias) as cursor:
        cursor.execute(sql, {"node": Node._meta.pk.get_db_prep_value(node.pk, connection)})
        rows = cursor.fetchall()
    return [(_uuid(node_id), name, value) for node_id, name, value in rows]


# --- WebDAV locks ------------------------------------------------------------------------------------------------

#: The lock fields a lock dictionary of WsgiDAV's lock manager holds, in this order.
LOCK_FIELDS = ("token", "root", "principal", "owner", "scope", "type", "depth", "timeout", "expire")

_lock_queries: dict[tuple[str, int, bool], str] = {}


def _lock_query(alias: str, count: int, *, with_below: bool) -> str:
    root = _column(DavLock, "root", alias)
    roots = ", ".join(f"%(root{index})s" for index in range(count))
    conditions = [f"{root} IN ({roots})"]
    if with_below:
        # A prefix compared with substr rather than LIKE: lock roots are quoted URLs, full of the "%" that LIKE
        # would take for a wildcard.
        conditions.append(f"substr({root}, 1, %(length)s) = %(below)s")
    selected = ", ".join(_column(DavLock, name, alias) for name in LOCK_FIELDS)
    where = f"({' OR '.join(conditions)}) AND {_column(DavLock, 'expire', alias)} >= %(now)s"
    return f"SELECT {selected} FROM {_table(DavLock, alias)} WHERE {where}"  # noqa: S608 (names from metadata)


def locks_at(roots: list[str], *, below: str | None, now: float, alias: str = "default") -> list[dict[str, Any]]:
    """The locks rooted at one of ``roots`` (or, with ``below``, at a root that starts with it) that have not
    expired at ``now`` (epoch seconds), as dictionaries of :data:`LOCK_FIELDS`."""
    key = (alias, len(roots), below is not None)
    sql = _lock_queries.get(key)
    if sql is None:
        sql = _lock_queries[key] = _lock_query(alias, len(roots), with_below=below is not None)
    params: dict[str, Any] = {f"root{index}": root for index, root in enumerate(roots)}
    if below is not None:
        params.update(length=len(below), below=below)
    params["now"] = now
    with prepared.cursor(alias) as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    locks = [dict(zip(LOCK_FIELDS, row, strict=True)) for row in rows]
    for lock in locks:
        lock["owner"] = bytes(lock["owner"])  # PostgreSQL: a memoryview
    return locks


_no_lock_conditions: dict[tuple[str, int], str] = {}


def _no_lock_condition(alias: str, count: int) -> str:
    root = _column(DavLock, "root", alias)
    covering = f"{root} IN (%(lock_url)s, %(lock_folder)s)"
    if count:
        names = ", ".join(f"%(lock_above{index})s" for index in range(count))
        covering += f" OR ({_column(DavLock, 'depth', alias)} = %(lock_infinity)s AND {root} IN ({names}))"
    where = f"({covering}) AND {_column(DavLock, 'expire', alias)} >= %(lock_now)s"
    return f"NOT EXISTS (SELECT 1 FROM {_table(DavLock, alias)} WHERE {where})"  # noqa: S608 (names from metadata)


def no_lock_condition(
    url: str,
    *,
    folder: str,
    above: list[str],
    now: float,
    ordered_by: Callable[[], None] | None = None,
    alias: str = "default",
) -> SqlCondition:
    """A condition for :func:`insert_new_node`: no lock that has not expired at ``now`` is rooted at ``url`` or
    at ``folder``, and no Depth infinity lock at one of ``above``. Parameter names start with ``lock_``, apart
    from the new row's."""
    key = (alias, len(above))
    sql = _no_lock_conditions.get(key)
    if sql is None:
        sql = _no_lock_conditions[key] = _no_lock_condition(alias, len(above))
    params: dict[str, Any] = {"lock_url": url, "lock_folder": folder, "lock_now": now}
    if above:
        params["lock_infinity"] = "infinity"
        params.update({f"lock_above{index}": root for index, root in enumerate(above)})
    return SqlCondition(sql, params, ordered_by=ordered_by)


def advisory_lock(key: int, *, shared: bool, alias: str = "default") -> None:
    """PostgreSQL: take the transaction-scoped advisory lock ``key``, exclusively or shared, waiting for it."""
    function = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
    with prepared.cursor(alias) as cursor:
        cursor.execute(f"SELECT {function}(%s)", [key])
