"""The scope picker on a big folder: its batch is read in the order of an index, with its LIMIT, so opening a
folder of 3,000 children costs what opening one of 30 does; folders first, then names ignoring case."""

from __future__ import annotations

import io

from django.db import connection

from files import services
from tests.support.content import fill_folder
from tests.support.paging_support import capture, select_statements


def _batch_query(client, folder) -> str:
    with capture() as queries:
        response = client.get("/people/alice/tokens/nodes/", {"parent": folder.uuid}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    return next(sql for sql in select_statements(queries) if 'FROM "files_node"' in sql and "LIMIT 101" in sql)


def _plan(sql: str) -> str:
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("ANALYZE")
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}")
            return "\n".join(str(row[-1]) for row in cursor.fetchall())
        cursor.execute("ANALYZE files_node")
        cursor.execute(f"EXPLAIN {sql}")
        return "\n".join(row[0] for row in cursor.fetchall())


def test_a_big_folders_batch_is_read_from_the_children_index_without_sorting_the_folder(admin_client, demo):
    folder = demo.node("/common/projects")
    fill_folder(folder, 3000)
    plan = _plan(_batch_query(admin_client, folder))
    assert "files_node_children_order" in plan
    # SQLite says "USE TEMP B-TREE FOR ORDER BY" and PostgreSQL "Sort" when every child is sorted first.
    assert "TEMP B-TREE" not in plan and "Sort" not in plan


def test_the_batch_reads_the_shown_columns_of_the_nodes_table_alone(admin_client, demo):
    folder = demo.node("/common/projects")
    fill_folder(folder, 10)
    sql = _batch_query(admin_client, folder)
    assert "JOIN" not in sql and '"mtime"' not in sql and '"etag"' not in sql


def test_children_come_folders_first_then_by_name_ignoring_case(admin_client, demo):
    folder = services.create_folder(parent=demo.node("/common/projects"), name="mixed")
    for name in ("Zeta", "beta"):
        services.create_folder(parent=folder, name=name)
    for name in ("c.txt", "B.txt", "a.txt"):
        services.write_file(parent=folder, name=name, stream=io.BytesIO(b"x"))
    response = admin_client.get("/people/alice/tokens/nodes/", {"parent": folder.uuid}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    positions = [
        html.index(f'aria-label="Access to /common/projects/mixed/{name}"')
        for name in ("beta", "Zeta", "a.txt", "B.txt", "c.txt")
    ]
    assert positions == sorted(positions)
