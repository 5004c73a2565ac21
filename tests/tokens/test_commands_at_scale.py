"""token_list streams (--limit, one JSON array, fixed columns); expired tokens are pruned after TOKEN_RETENTION."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.support.bulk_tokens_support import make_tokens
from tests.support.commands import run_command
from tokens.audit import AuditEvent
from tokens.models import PersonalAccessToken
from tokens.services import PRUNE_BATCH, token_create

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize("size", [10, 200])
def test_token_list_reads_in_a_constant_number_of_limited_queries(demo, capsys, size):
    make_tokens(demo.alice, size, start=T0)
    with CaptureQueriesContext(connection) as queries:
        assert run_command("token_list", "--limit", "5") == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 6 and lines[0].startswith("ID")
    own = [query["sql"] for query in queries if "tokens_personalaccesstoken" in query["sql"]]
    assert len(own) == 1 and "LIMIT 5" in own[0]


def test_token_list_columns_do_not_depend_on_the_rows(demo, capsys):
    make_tokens(demo.alice, 2, start=T0, label="x" * 100)
    assert run_command("token_list") == 0
    header, *rows = capsys.readouterr().out.splitlines()
    assert header.index("OWNER") == 14 and header.index("LABEL") == 32
    assert all(row[14:19] == "alice" and row[32:62] == "x" * 29 + "…" for row in rows)


@pytest.mark.parametrize("size", [0, 1, 7])
def test_token_list_json_is_one_array_newest_first(demo, capsys, size):
    made = make_tokens(demo.alice, size, start=T0)
    assert run_command("token_list", "--json") == 0
    rows = json.loads(capsys.readouterr().out)
    assert [row["id"] for row in rows] == [token.lookup_id for token in reversed(made)]


def test_token_list_json_limit_and_status(demo, capsys):
    make_tokens(demo.alice, 4, start=T0, last_used_at=T0)
    make_tokens(demo.alice, 3, start=T0)
    assert run_command("token_list", "--json", "--status", "never-used", "--limit", "2") == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 2 and all(row["usage"] == "Never used" for row in rows)


def test_token_delete_by_status_deletes_every_match_in_batches(demo, capsys):
    make_tokens(demo.bob, 600, start=T0 - timedelta(days=400))  # expired long ago
    make_tokens(demo.bob, 3, start=T0, expires_at=T0 + timedelta(days=400))
    with time_machine.travel(T0, tick=False):
        assert run_command("token_delete", "--status", "expired", "--reason", "cleanup") == 0
    assert "600 token(s) deleted." in capsys.readouterr().out
    assert PersonalAccessToken.objects.count() == 3


# Retention


@pytest.fixture
def expired(demo):
    """Three tokens that expired on T0, with their creation records."""
    with time_machine.travel(T0 - timedelta(days=1), tick=False):
        for n in range(3):
            token_create(owner=demo.alice, label=f"old {n}", expires_in=timedelta(days=1), via="console")
    return demo


def test_token_reminders_prunes_what_expired_more_than_the_retention_ago(expired, capsys, settings):
    settings.TOKEN_RETENTION = "90d"
    with time_machine.travel(T0 + timedelta(days=90), tick=False):
        # The start-up check refuses such a setting (cellsadmin.E003); past it, the command still runs.
        assert run_command("token_reminders", "--skip-checks") == 0
        assert PersonalAccessToken.objects.count() == 3
    with time_machine.travel(T0 + timedelta(days=90, seconds=1), tick=False):
        # The start-up check refuses such a setting (cellsadmin.E003); past it, the command still runs.
        assert run_command("token_reminders", "--skip-checks") == 0
    assert "3 token(s) expired more than 90d ago pruned." in capsys.readouterr().out
    assert PersonalAccessToken.objects.count() == 0
    # The audit trail keeps the creation and adds the deletion, by the system.
    assert AuditEvent.objects.filter(event="created", token_label__startswith="old").count() == 3
    deleted = AuditEvent.objects.filter(event="deleted")
    assert deleted.count() == 3 and {event.actor_label for event in deleted} == {"system"}


def test_creating_a_token_prunes_a_bounded_batch_once_committed(demo, settings, django_capture_on_commit_callbacks):
    settings.TOKEN_RETENTION = "30d"
    settings.TOKEN_MAX_PER_USER = 0
    make_tokens(demo.bob, PRUNE_BATCH + 5, start=T0 - timedelta(days=40), expires_at=T0 - timedelta(days=31))
    with time_machine.travel(T0, tick=False), django_capture_on_commit_callbacks(execute=True):
        token_create(owner=demo.alice, label="new", expires_in=timedelta(days=1), via="console")
    assert PersonalAccessToken.objects.filter(owner=demo.bob).count() == 5
    assert PersonalAccessToken.objects.filter(label="new").exists()


def test_a_broken_retention_prunes_nothing_and_breaks_nothing(expired, settings, django_capture_on_commit_callbacks):
    settings.TOKEN_RETENTION = "soon"
    with time_machine.travel(T0 + timedelta(days=400), tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            token_create(owner=expired.bob, label="new", expires_in=timedelta(days=1), via="console")
        # The start-up check refuses such a setting (cellsadmin.E003); past it, the command still runs.
        assert run_command("token_reminders", "--skip-checks") == 0
    assert PersonalAccessToken.objects.filter(owner=expired.alice).count() == 3


def test_token_prune_defaults_to_the_retention(expired, capsys, settings):
    settings.TOKEN_RETENTION = "10d"
    with time_machine.travel(T0 + timedelta(days=11), tick=False):
        assert run_command("token_prune", "--dry-run") == 0
    assert "3 expired token(s) would be pruned" in capsys.readouterr().out
