"""The token inventory's label search through an index, so that a term matching no token costs the same at any
number of tokens (``PersonalAccessTokenQuerySet.label_contains``).

PostgreSQL: a trigram GIN index on ``UPPER(label)``, the expression Django's ``icontains`` compares, so the planner
uses it for the query as it stands. It needs the extension pg_trgm (trusted since PostgreSQL 13); where it cannot
be created the migration warns and goes on without the index: the search then reads the table, as before.

SQLite: an FTS5 table with the trigram tokenizer holding each token's label and uuid, filled here and kept in step
by triggers (they fire for bulk_create and queryset deletes too). Its ``token`` column is indexed too, so that the
triggers find a token's row by its uuid (``LIKE`` with the whole uuid) without reading the table.
"""

import logging

from django.db import DatabaseError, migrations, transaction

log = logging.getLogger(__name__)

SQLITE_FORWARD = [
    "CREATE VIRTUAL TABLE tokens_label_search USING fts5(label, token, tokenize='trigram')",
    "INSERT INTO tokens_label_search (label, token) SELECT label, uuid FROM tokens_personalaccesstoken",
    """CREATE TRIGGER tokens_label_search_insert AFTER INSERT ON tokens_personalaccesstoken BEGIN
        INSERT INTO tokens_label_search (label, token) VALUES (new.label, new.uuid);
    END""",
    """CREATE TRIGGER tokens_label_search_delete AFTER DELETE ON tokens_personalaccesstoken BEGIN
        DELETE FROM tokens_label_search WHERE token LIKE old.uuid;
    END""",
    """CREATE TRIGGER tokens_label_search_update AFTER UPDATE OF label ON tokens_personalaccesstoken BEGIN
        UPDATE tokens_label_search SET label = new.label WHERE token LIKE old.uuid;
    END""",
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS tokens_label_search_insert",
    "DROP TRIGGER IF EXISTS tokens_label_search_delete",
    "DROP TRIGGER IF EXISTS tokens_label_search_update",
    "DROP TABLE IF EXISTS tokens_label_search",
]
PG_FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX tokens_pat_label_trgm ON tokens_personalaccesstoken USING gin (UPPER(label) gin_trgm_ops)",
]
PG_BACKWARD = "DROP INDEX IF EXISTS tokens_pat_label_trgm"


def forward(apps, schema_editor):  # type: ignore[no-untyped-def]
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        for statement in SQLITE_FORWARD:
            schema_editor.execute(statement)
    elif vendor == "postgresql":
        try:
            with transaction.atomic(using=schema_editor.connection.alias):
                for statement in PG_FORWARD:
                    schema_editor.execute(statement)
        except DatabaseError as error:
            message = f"pg_trgm is not available ({error}): the token inventory's label search reads the table."
            log.warning(message)
            print(f"\n  Warning: {message}")


def backward(apps, schema_editor):  # type: ignore[no-untyped-def]
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        for statement in SQLITE_BACKWARD:
            schema_editor.execute(statement)
    elif vendor == "postgresql":
        schema_editor.execute(PG_BACKWARD)


class Migration(migrations.Migration):
    dependencies = [
        ("tokens", "0008_revocation_and_expiring_from"),
    ]

    operations = [migrations.RunPython(forward, backward)]
