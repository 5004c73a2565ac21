"""Migration 0009 fills SQLite's label search table from the tokens that exist; backwards, it removes it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection

from console.filters import InventoryFilter
from tests.support.migrations import historical_token, migrate

BEFORE = [("tokens", "0008_revocation_and_expiring_from")]
AFTER = [("tokens", "0009_label_search")]
BORN = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

pytestmark = pytest.mark.skipif(connection.vendor != "sqlite", reason="the FTS5 search table is SQLite's")


def search_table_exists() -> bool:
    with connection.cursor() as cursor:
        return "tokens_label_search" in connection.introspection.table_names(cursor)


@pytest.mark.django_db(transaction=True)
def test_existing_tokens_are_searchable_and_backwards_removes_the_table(django_user_model):
    owner = django_user_model.objects.create_user("old")
    apps = migrate(BEFORE)
    assert not search_table_exists()
    for label in ["nightly backup", "deploy key", "Backup of photos"]:
        historical_token(apps, owner.pk, label, expires_at=BORN + timedelta(days=7), created_at=BORN)
    migrate(AFTER)
    with connection.cursor() as cursor:
        cursor.execute("SELECT label FROM tokens_label_search WHERE label LIKE '%backup%'")
        assert {row[0] for row in cursor.fetchall()} == {"nightly backup", "Backup of photos"}
    migrate()
    assert {token.label for token in InventoryFilter({"label": "backup"}).tokens()} == {
        "nightly backup",
        "Backup of photos",
    }
    migrate(BEFORE)
    assert not search_table_exists()
    migrate()
    assert search_table_exists()
