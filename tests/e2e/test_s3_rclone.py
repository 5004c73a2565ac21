"""rclone's s3 backend (provider Other, path style) against a running server, with a PAT as the access key."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.dav_support import live_server
from tests.support.rclone_support import Rclone, sample_tree
from tests.support.s3_support import SECRET

pytestmark = [pytest.mark.system, pytest.mark.django_db(transaction=True)]


def s3_rclone(program: str, base: str, access_key: str, home: Path) -> Rclone:
    flags = [
        "--s3-provider", "Other",
        "--s3-endpoint", base,
        "--s3-access-key-id", access_key,
        "--s3-secret-access-key", SECRET,
        "--s3-force-path-style",
    ]  # fmt: skip
    return Rclone(program, home, flags)


def test_rclone_copies_syncs_and_checks_with_a_token(demo, rclone_program, tmp_path):
    _token, secret = demo.token(demo.alice)
    local = sample_tree(tmp_path / "local")
    with live_server() as base:
        rclone = s3_rclone(rclone_program, base, secret, tmp_path)
        listing = rclone("lsf", ":s3:io")
        assert listing.returncode == 0, listing.stderr
        assert listing.stdout.split() == ["common/", "research/"]

        copied = rclone("copy", str(local), ":s3:io/research/backup")
        assert copied.returncode == 0, copied.stderr
        tree = rclone("lsf", "-R", "--files-only", ":s3:io/research/backup")
        assert sorted(tree.stdout.splitlines()) == ["nested/deeper/blob.bin", "nested/notes ü.md", "readme.txt"]
        checked = rclone("check", str(local), ":s3:io/research/backup")
        assert checked.returncode == 0, checked.stderr
        assert "0 differences found" in checked.stderr

        (local / "readme.txt").unlink()
        (local / "added.txt").write_text("added\n")
        synced = rclone("sync", str(local), ":s3:io/research/backup")
        assert synced.returncode == 0, synced.stderr
        after = rclone("lsf", "-R", "--files-only", ":s3:io/research/backup")
        assert sorted(after.stdout.splitlines()) == ["added.txt", "nested/deeper/blob.bin", "nested/notes ü.md"]


def test_rclone_with_a_read_scope_cannot_copy_and_sees_only_its_branch(demo, rclone_program, tmp_path):
    alpha = demo.node("/common/projects/alpha")
    _token, secret = demo.token(demo.alice, scopes=[f"node:{alpha.uuid}:r"])
    local = sample_tree(tmp_path / "local")
    with live_server() as base:
        rclone = s3_rclone(rclone_program, base, secret, tmp_path)
        listing = rclone("lsf", "-R", "--files-only", ":s3:io")
        assert listing.returncode == 0, listing.stderr
        assert sorted(listing.stdout.splitlines()) == [
            "common/projects/alpha/data.csv",
            "common/projects/alpha/readme.txt",
        ]
        copied = rclone("copy", str(local), ":s3:io/common/projects/alpha/backup")
        assert copied.returncode != 0
        assert "AccessDenied" in copied.stderr
