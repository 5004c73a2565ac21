"""``manage.py dav_locks``: list the WebDAV locks held now, release the ones a crashed client left behind."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from files.models import DavLock
from tests.support.api_helpers import call
from tests.support.commands import run_command
from tests.support.dav_support import LOCK_BODY, DavClient

NAME = "Relevé final.txt"


@pytest.fixture
def held(demo) -> dict[str, str]:
    """Two locks of alice's WebDAV client: a file with an accented name, and a folder (Depth infinity)."""
    _token, secret = demo.token(demo.alice)
    dav = DavClient("alice", secret)
    assert dav.put(f"/dav/research/{NAME}", b"draft").status == 201
    tokens = {}
    for path, depth in ((f"/dav/research/{NAME}", "0"), ("/dav/common/projects", "infinity")):
        locked = dav.request("LOCK", path, LOCK_BODY, depth=depth, timeout="Second-3600")
        assert locked.status == 200
        tokens[path] = locked.headers["lock-token"].strip("<>")
    return tokens


def _listed(capsys, *args: str):
    assert run_command("dav_locks", "--json", *args) == 0
    return json.loads(capsys.readouterr().out)


def test_the_list_names_paths_owners_and_expiry(held, capsys):
    rows = _listed(capsys)
    assert [(row["path"], row["owner"], row["depth"]) for row in rows] == [
        ("/common/projects", "alice", "infinity"),
        (f"/research/{NAME}", "alice", "0"),
    ]
    assert all(row["expires_in"].startswith(("59", "1 hour")) for row in rows)
    assert run_command("dav_locks") == 0
    table = capsys.readouterr().out
    assert f"/research/{NAME}" in table and "alice" in table


def test_the_list_by_path(held, capsys):
    assert [row["path"] for row in _listed(capsys, "--path", "/common")] == ["/common/projects"]
    assert [row["path"] for row in _listed(capsys, "--path", f"/research/{NAME}")] == [f"/research/{NAME}"]
    assert _listed(capsys, "--path", "/common/projects/alpha") == []  # a lock above it is not "at or below"


def test_releasing_a_lock_frees_the_file_for_the_api(held, demo, client, alice, capsys):
    node = demo.node(f"/research/{NAME}")
    assert call(client, "PUT", f"/nodes/{node.uuid}/content", b"script", alice).status_code == 423
    assert run_command("dav_locks", "--release", held[f"/dav/research/{NAME}"]) == 0
    assert f"1 lock(s) released.\n  /research/{NAME}  (alice)" in capsys.readouterr().out
    assert call(client, "PUT", f"/nodes/{node.uuid}/content", b"script", alice).status_code == 200
    assert DavLock.objects.count() == 1


def test_releasing_by_path_and_dry_run(held, capsys):
    assert run_command("dav_locks", "--release", "--path", "/common", "--dry-run") == 0
    assert "1 lock(s) would be released" in capsys.readouterr().out
    assert DavLock.objects.count() == 2
    assert run_command("dav_locks", "--release", "--path", "/common") == 0
    assert [lock.root for lock in DavLock.objects.all()] == ["/research/Relev%C3%A9%20final.txt"]


@pytest.mark.parametrize(
    "argv",
    [
        ["--release"],  # nothing named: never everything at once
        ["opaquelocktoken:whatever"],  # a token without --release
        ["--release", "opaquelocktoken:not-held"],
        ["--path", "common"],
    ],
)
def test_bad_input_is_one_line_and_changes_nothing(held, capsys, argv):
    code = run_command("dav_locks", *argv)
    captured = capsys.readouterr()
    assert code != 0
    assert len(captured.err.strip().splitlines()) == 1
    assert captured.err.startswith("dav_locks: error:")
    assert DavLock.objects.count() == 2


def test_prune_deletes_only_expired_records(held, capsys):
    with time_machine.travel(timezone.now() + timedelta(hours=2)):
        assert _listed(capsys) == []  # expired locks hold nothing and are not listed
        assert run_command("dav_locks", "--prune") == 0
        assert "2 expired lock record(s) deleted." in capsys.readouterr().out
    assert not DavLock.objects.exists()


def test_a_release_on_the_command_line_is_kept_in_the_audit_trail(held, capsys):
    from tokens.audit import AuditEvent

    assert run_command("dav_locks", "--release", "--dry-run", "--path", "/common") == 0
    assert not AuditEvent.objects.filter(event=AuditEvent.LOCK_RELEASED).exists()
    assert run_command("dav_locks", "--release", "--path", "/common") == 0
    (record,) = AuditEvent.objects.filter(event=AuditEvent.LOCK_RELEASED)
    assert (record.owner_login, record.actor_label, record.via) == ("alice", "command line", "cli")
    assert record.reason == "/common/projects (exclusive, depth infinity)"
