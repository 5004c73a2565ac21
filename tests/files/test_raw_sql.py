"""Each plain statement of ``files.raw_sql`` gives the answer of the ORM query it stands for, on the same data
(SQLite, and PostgreSQL with DATABASE_URL)."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from files import raw_sql
from files.models import DavLock, DeadProperty, Grant, Node, Workspace
from people.models import User

NODE_FIELDS = [field.attname for field in Node._meta.concrete_fields]
WORKSPACE_FIELDS = ("uuid", "slug", "label")


def _fields(node: Node) -> dict[str, Any]:
    return {name: getattr(node, name) for name in NODE_FIELDS}


def _orm_grants(user: User) -> Any:
    return Grant.objects.filter(Q(user=user) | Q(group__in=user.groups.all()))


@pytest.fixture
def people(demo):
    """The demo's users, and grants through groups beside their own: carol only through a group, bob both
    ways, dave none at all."""
    readers = Group.objects.create(name="readers")
    writers = Group.objects.create(name="writers")
    carol = User.objects.create_user("carol")
    dave = User.objects.create_user("dave")
    carol.groups.add(readers)
    demo.bob.groups.add(readers, writers)
    Grant.objects.create(workspace=demo.research, group=readers, level=Grant.READ)
    Grant.objects.create(workspace=demo.common, group=writers, level=Grant.READ_WRITE)
    return [demo.admin, demo.alice, demo.bob, carol, dave]


@pytest.mark.parametrize(
    ("slug", "paths"),
    [
        ("common", [""]),
        ("common", ["", "/projects", "/projects/alpha/data.csv", "/nothing/here"]),
        ("common", ["/PROJECTS", "/projects/"]),
        ("research", ["/paper.txt", "/welcome.txt"]),
        ("nosuchworkspace", [""]),
    ],
)
def test_nodes_at_finds_what_the_orm_finds(demo, slug, paths):
    found, grant = raw_sql.nodes_at(slug, paths)
    expected = Node.objects.select_related("workspace").filter(workspace__slug=slug, path__in=paths)
    assert grant is None
    assert {path: _fields(node) for path, node in found.items()} == {node.path: _fields(node) for node in expected}
    for node in expected:
        attached = found[node.path].workspace
        assert {name: getattr(attached, name) for name in WORKSPACE_FIELDS} == {
            name: getattr(node.workspace, name) for name in WORKSPACE_FIELDS
        }


@pytest.mark.parametrize("slug", ["common", "research"])
def test_nodes_at_reads_the_grant_the_orm_reads(people, slug):
    for user in people:
        found, grant = raw_sql.nodes_at(slug, ["", "/paper.txt"], grantee=user.pk)
        grants = _orm_grants(user).filter(workspace__slug=slug)
        assert found
        assert grant == raw_sql.WorkspaceGrant(
            Workspace.objects.get(slug=slug).pk,
            read=grants.exists(),
            write=grants.filter(level=Grant.READ_WRITE).exists(),
        ), user.login


def test_nodes_at_reads_no_grant_where_no_path_is_found(people):
    assert raw_sql.nodes_at("common", ["/nothing"], grantee=people[1].pk) == ({}, None)


def test_nodes_by_key_finds_what_in_bulk_finds(demo):
    keys = [*Node.objects.filter(workspace=demo.common).values_list("pk", flat=True)[:3], uuid.uuid4()]
    found = raw_sql.nodes_by_key(keys)
    expected = Node.objects.in_bulk(keys)
    assert {key: _fields(node) for key, node in found.items()} == {key: _fields(node) for key, node in expected.items()}
    assert all(not node._state.adding and node._state.db == "default" for node in found.values())


def test_grant_rows_are_the_orms_grants(people):
    for user in people:
        expected = _orm_grants(user).values_list("workspace_id", "level")
        assert sorted(raw_sql.grant_rows(user.pk)) == sorted(expected), user.login


def _new_file(folder: Node, name: str, **fields: Any) -> Node:
    return Node(
        workspace_id=folder.workspace_id,
        parent=folder,
        name=name,
        path=f"{folder.path}/{name}",
        type=Node.FILE,
        size=3,
        etag="e" * 40,
        mtime=timezone.now(),
        blob="ab/blob",
        content_type="text/plain",
        **fields,
    )


def test_insert_new_node_writes_the_row_the_orm_writes(demo):
    folder = demo.node("/common/projects")
    inserted, saved = _new_file(folder, "raw.txt"), _new_file(folder, "orm.txt")
    saved.mtime = inserted.mtime
    assert raw_sql.insert_new_node(inserted)
    saved.save(force_insert=True)
    assert not inserted._state.adding and inserted._state.db == saved._state.db
    raw_row, orm_row = Node.objects.get(pk=inserted.pk), Node.objects.get(pk=saved.pk)
    assert _fields(raw_row) == _fields(inserted)
    differ = {"uuid", "name", "path", "created_at"}
    assert {k: v for k, v in _fields(raw_row).items() if k not in differ} == {
        k: v for k, v in _fields(orm_row).items() if k not in differ
    }
    assert abs(raw_row.created_at - orm_row.created_at).total_seconds() < 60


@pytest.mark.parametrize("taken", ["name", "path"])
def test_insert_new_node_refuses_what_the_orm_would_refuse_as_taken(demo, taken):
    folder = demo.node("/common/projects")
    twin = _new_file(folder, "alpha")  # a folder of that name is there
    if taken == "path":  # the same path under another name: only the path's uniqueness stands in the way
        twin.name = "other"
    assert not raw_sql.insert_new_node(twin)
    with pytest.raises(IntegrityError), transaction.atomic():
        _new_file(folder, "alpha", uuid=uuid.uuid4()).save(force_insert=True)
    assert not Node.objects.filter(pk=twin.pk).exists()


def test_dead_properties_are_the_orms(demo):
    folder = demo.node("/common/projects")
    alpha, data = demo.node("/common/projects/alpha"), demo.node("/common/projects/alpha/data.csv")
    for index, node in enumerate([alpha, folder, data, demo.node("/common/welcome.txt"), folder, alpha]):
        DeadProperty.objects.create(node=node, name=f"{{urn:test}}p{index}", value=f"<v>{index}</v>")
    for node in (folder, alpha, data):
        for with_children in (False, True):
            where = Q(node=node) | Q(node__parent=node) if with_children else Q(node=node)
            expected = DeadProperty.objects.filter(where).order_by("pk").values_list("node_id", "name", "value")
            assert raw_sql.dead_properties(node, with_children=with_children) == list(expected)


LOCK_ROOTS = ["/", "/ws", "/ws/a", "/ws/a/b", "/ws/a/b/c.txt", "/ws/a/bc", "/ws/A/b", "/ws/a%25b/c", "/ws/a_b/c"]


@pytest.fixture
def locks(db):
    now = time.time()
    for index, root in enumerate(LOCK_ROOTS):
        for depth, expire in (("0", now + 600), ("infinity", now + 600), ("infinity", now - 1)):
            DavLock.objects.create(
                token=f"opaquelocktoken:{index}-{depth}-{expire > now}",
                root=root,
                principal="someone",
                owner=b"<D:href>me</D:href>",
                scope="exclusive",
                depth=depth,
                timeout=600.0,
                expire=expire,
            )
    return now


@pytest.mark.parametrize("roots", [["/ws/a/b", "/ws/a", "/ws", "/"], ["/ws/a%25b/c"], ["/nowhere"]])
@pytest.mark.parametrize("below", [None, "/ws/a/", "/ws/a%25b/", "/ws/a_b/", "/"])
def test_locks_at_are_the_orms(locks, roots, below):
    where = Q(root__in=roots)
    if below is not None:
        where |= Q(root__startswith_exactly=below)
    expected = [
        {name: getattr(lock, name) for name in raw_sql.LOCK_FIELDS}
        for lock in DavLock.objects.filter(where, expire__gte=locks)
    ]
    for lock in expected:
        lock["owner"] = bytes(lock["owner"])
    found = raw_sql.locks_at(roots, below=below, now=locks)
    assert sorted(found, key=lambda lock: lock["token"]) == sorted(expected, key=lambda lock: lock["token"])


def _holds(condition: raw_sql.SqlCondition) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {condition.sql}", condition.params)
        return bool(cursor.fetchone()[0])


@pytest.mark.parametrize(
    ("url", "folder", "above"),
    [
        ("/ws/a/b/new.txt", "/ws/a/b", ["/ws/a", "/ws", "/"]),
        ("/ws/a/b/c.txt", "/ws/a/b", ["/ws/a", "/ws", "/"]),
        ("/ws/new", "/ws", ["/"]),
        ("/new", "/", []),
        ("/elsewhere/x", "/elsewhere", []),
    ],
)
@pytest.mark.parametrize("locked", [None, *LOCK_ROOTS])
def test_no_lock_condition_holds_where_the_orm_finds_no_lock(db, url, folder, above, locked):
    now = time.time()
    if locked is not None:
        for depth in ("0", "infinity") if locked in above else ("0",):
            DavLock.objects.create(
                token=f"t-{depth}",
                root=locked,
                principal="p",
                scope="exclusive",
                depth=depth,
                timeout=60,
                expire=now + 60,
            )
    expected = not DavLock.objects.filter(
        Q(root__in=[url, folder]) | Q(depth="infinity", root__in=above), expire__gte=now
    ).exists()
    condition = raw_sql.no_lock_condition(url, folder=folder, above=above, now=now)
    assert _holds(condition) == expected


def test_insert_new_node_only_if_goes_in_exactly_where_the_condition_holds(demo):
    folder = demo.node("/common/projects")
    now = time.time()
    free = raw_sql.no_lock_condition("/common/projects/free.txt", folder="/common/projects", above=[], now=now)
    assert raw_sql.insert_new_node(_new_file(folder, "free.txt"), only_if=free)
    DavLock.objects.create(
        token="t", root="/common/projects", principal="p", scope="exclusive", depth="0", timeout=60, expire=now + 60
    )
    locked = raw_sql.no_lock_condition("/common/projects/locked.txt", folder="/common/projects", above=[], now=now)
    assert not raw_sql.insert_new_node(_new_file(folder, "locked.txt"), only_if=locked)
    assert list(folder.children.filter(name__in=["free.txt", "locked.txt"]).values_list("name", flat=True)) == [
        "free.txt"
    ]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="runs against PostgreSQL (DATABASE_URL=postgres://…)")
@pytest.mark.parametrize(("shared", "mode"), [(False, "ExclusiveLock"), (True, "ShareLock")])
def test_advisory_lock_is_held_for_the_transaction(db, shared, mode):
    key = 0x12345678
    held = (
        "SELECT mode FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()"
        " AND classid::bigint = %s AND objid::bigint = %s"
    )
    with transaction.atomic():
        raw_sql.advisory_lock(key, shared=shared)
        with connection.cursor() as cursor:
            cursor.execute(held, [key >> 32, key & 0xFFFFFFFF])
            assert [row[0] for row in cursor.fetchall()] == [mode]
