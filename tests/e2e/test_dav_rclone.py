"""rclone, a real WebDAV client, with a PAT as the password and the owner's login as the user name."""

from __future__ import annotations

import os
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.support.dav_support import live_server
from tests.support.rclone_support import Rclone, sample_tree
from tests.support.tools import require_tool

pytestmark = [pytest.mark.system, pytest.mark.django_db(transaction=True)]


def dav_rclone(program: str, base: str, login: str, secret: str, home: Path, *, vendor: str = "other") -> Rclone:
    obscured = subprocess.run(
        [program, "obscure", secret], capture_output=True, text=True, check=True, timeout=30
    ).stdout.strip()
    flags = [
        "--webdav-url", f"{base}/dav/",
        "--webdav-vendor", vendor,
        "--webdav-user", login,
        "--webdav-pass", obscured,
    ]  # fmt: skip
    return Rclone(program, home, flags)


def test_rclone_lists_copies_checks_and_purges_with_a_token(demo, rclone_program, tmp_path):
    _token, secret = demo.token(demo.alice)
    local = sample_tree(tmp_path / "local")
    with live_server() as base:
        rclone = dav_rclone(rclone_program, base, "alice", secret, tmp_path)
        listing = rclone("lsf", ":webdav:")
        assert listing.returncode == 0, listing.stderr
        assert listing.stdout.split() == ["common/", "research/"]

        copied = rclone("copy", str(local), ":webdav:research/backup")
        assert copied.returncode == 0, copied.stderr
        tree = rclone("lsf", "-R", ":webdav:research/backup")
        assert sorted(tree.stdout.split("\n")) == sorted(
            ["", "nested/", "nested/deeper/", "nested/deeper/blob.bin", "nested/notes ü.md", "readme.txt"]
        )
        checked = rclone("check", "--download", str(local), ":webdav:research/backup")
        assert checked.returncode == 0, checked.stderr
        assert "0 differences found" in checked.stderr

        purged = rclone("purge", ":webdav:research/backup")
        assert purged.returncode == 0, purged.stderr
        assert rclone("lsf", ":webdav:research").stdout.split() == ["paper.txt"]


def test_rclone_with_a_read_scope_cannot_copy_and_sees_only_the_branch(demo, rclone_program, tmp_path):
    alpha = demo.node("/common/projects/alpha")
    _token, secret = demo.token(demo.alice, scopes=[f"node:{alpha.uuid}:r"])
    local = sample_tree(tmp_path / "local")
    with live_server() as base:
        rclone = dav_rclone(rclone_program, base, "alice", secret, tmp_path)
        assert rclone("lsf", ":webdav:").stdout.split() == ["common/"]
        assert rclone("lsf", ":webdav:common").stdout.split() == ["projects/"]
        assert rclone("lsf", ":webdav:common/projects").stdout.split() == ["alpha/"]
        assert rclone("lsf", ":webdav:common/projects/alpha").stdout.split() == ["data.csv", "readme.txt"]

        copied = rclone("copy", str(local), ":webdav:common/projects/alpha/upload")
        assert copied.returncode != 0
    assert not demo.node("/common/projects/alpha").children.filter(name="upload").exists()


def test_rclone_as_an_owncloud_client_keeps_times_and_syncs_a_same_size_change(demo, tmp_path):
    program = require_tool("rclone")
    _token, secret = demo.token(demo.alice)
    local = tmp_path / "local"
    local.mkdir()
    (local / "a.txt").write_text("version 1\n")
    (local / "b.txt").write_text("unchanged\n")
    os.utime(local / "a.txt", (1600000000, 1600000000))
    os.utime(local / "b.txt", (1650000000, 1650000000))
    with live_server() as base:
        rclone = dav_rclone(program, base, "alice", secret, tmp_path, vendor="owncloud")
        copied = rclone("copy", str(local), ":webdav:research/synced")
        assert copied.returncode == 0, copied.stderr
        listed = rclone("lsl", ":webdav:research/synced")
        assert listed.returncode == 0, listed.stderr
        assert "2020-09-13 12:26:40" in listed.stdout and "2022-04-15 05:20:00" in listed.stdout, listed.stdout

        # Same size, new content and time: only a client that sees the time notices.
        (local / "a.txt").write_text("version 2\n")
        os.utime(local / "a.txt", (1700000000, 1700000000))
        synced = rclone("sync", str(local), ":webdav:research/synced")
        assert synced.returncode == 0, synced.stderr
        checked = rclone("check", "--download", str(local), ":webdav:research/synced")
        assert checked.returncode == 0, checked.stderr + checked.stdout
    assert demo.node("/research/synced/a.txt").mtime == datetime.fromtimestamp(1700000000, UTC)
