"""rclone's s3 backend (provider Other, path style) against a running server, with a PAT as the access key."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.support.dav_support import live_server
from tests.support.s3_support import SECRET
from tests.support.tools import require_tool

pytestmark = [pytest.mark.system, pytest.mark.django_db(transaction=True)]


class Rclone:
    def __init__(self, program: str, base: str, access_key: str, home: Path) -> None:
        self.program = program
        self.flags = [
            "--config", str(home / "rclone.conf"),
            "--s3-provider", "Other",
            "--s3-endpoint", base,
            "--s3-access-key-id", access_key,
            "--s3-secret-access-key", SECRET,
            "--s3-force-path-style",
            "--low-level-retries", "1",
            "--retries", "1",
        ]  # fmt: skip
        self.env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home)}

    def __call__(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [self.program, *args, *self.flags], capture_output=True, text=True, env=self.env, timeout=120, check=False
        )


@pytest.fixture
def rclone_program() -> str:
    return require_tool("rclone")


def _tree(root: Path) -> Path:
    (root / "nested" / "deeper").mkdir(parents=True)
    (root / "readme.txt").write_text("hello from rclone\n")
    (root / "nested" / "notes ü.md").write_text("# notes\n")
    (root / "nested" / "deeper" / "blob.bin").write_bytes(bytes(range(256)) * 1200)
    return root


def test_rclone_copies_syncs_and_checks_with_a_token(demo, rclone_program, tmp_path):
    _token, secret = demo.token(demo.alice)
    local = _tree(tmp_path / "local")
    with live_server() as base:
        rclone = Rclone(rclone_program, base, secret, tmp_path)
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
    local = _tree(tmp_path / "local")
    with live_server() as base:
        rclone = Rclone(rclone_program, base, secret, tmp_path)
        listing = rclone("lsf", "-R", "--files-only", ":s3:io")
        assert listing.returncode == 0, listing.stderr
        assert sorted(listing.stdout.splitlines()) == [
            "common/projects/alpha/data.csv",
            "common/projects/alpha/readme.txt",
        ]
        copied = rclone("copy", str(local), ":s3:io/common/projects/alpha/backup")
        assert copied.returncode != 0
        assert "AccessDenied" in copied.stderr
