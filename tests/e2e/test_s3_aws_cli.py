"""The AWS CLI against a running server: ``aws s3 ls|cp|sync|rm`` with a PAT as the access key."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from files.models import Node
from tests.support.dav_support import live_server
from tests.support.s3_support import SECRET

pytestmark = [pytest.mark.system, pytest.mark.django_db(transaction=True)]


class Aws:
    def __init__(self, program: str, base: str, access_key: str, home: Path) -> None:
        config = home / "aws-config"
        config.write_text("[default]\nregion = us-east-1\ns3 =\n    addressing_style = path\n")
        self.command = [program, "--endpoint-url", base]
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(home),
            "AWS_CONFIG_FILE": str(config),
            "AWS_SHARED_CREDENTIALS_FILE": str(home / "no-credentials"),
            "AWS_ACCESS_KEY_ID": access_key,
            "AWS_SECRET_ACCESS_KEY": SECRET,
            "AWS_MAX_ATTEMPTS": "1",
        }
        for name in ("PYENV_ROOT", "PYENV_VERSION"):
            if name in os.environ:
                self.env[name] = os.environ[name]

    def __call__(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*self.command, *args], capture_output=True, text=True, env=self.env, timeout=120, check=False
        )


@pytest.fixture
def aws_program() -> str:
    """The ``aws`` of PyPI's awscli in the virtualenv's ``bin`` (the dev extras); skip (in CI: fail) without it.
    awscli 1.46 on carries its own botocore, whatever boto3's is."""
    path = shutil.which("aws", path=str(Path(sys.executable).parent))
    if path is None:
        message = "needs aws from the PyPI package awscli (in the dev extras: make test installs it)"
        if os.environ.get("REQUIRE_SYSTEM_TOOLS") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return path


def _tree(root: Path) -> Path:
    (root / "nested" / "deeper").mkdir(parents=True)
    (root / "readme.txt").write_text("hello from the AWS CLI\n")
    (root / "nested" / "notes ü.md").write_text("# notes\n")
    (root / "nested" / "deeper" / "blob.bin").write_bytes(bytes(range(256)) * 1200)
    return root


def test_aws_cli_lists_copies_syncs_both_ways_and_removes(demo, aws_program, tmp_path):
    _token, secret = demo.token(demo.alice)
    local = _tree(tmp_path / "local")
    with live_server() as base:
        aws = Aws(aws_program, base, secret, tmp_path)
        listed = aws("s3", "ls", "s3://io/")
        assert listed.returncode == 0, listed.stderr
        assert listed.stdout.split() == ["PRE", "common/", "PRE", "research/"]

        copied = aws("s3", "cp", str(local / "readme.txt"), "s3://io/research/readme.txt")
        assert copied.returncode == 0, copied.stderr
        assert demo.node("/research/readme.txt").size == len("hello from the AWS CLI\n")
        fetched = aws("s3", "cp", "s3://io/research/paper.txt", str(tmp_path / "paper.txt"))
        assert fetched.returncode == 0, fetched.stderr
        assert (tmp_path / "paper.txt").read_bytes() == b"A paper in progress.\n"

        synced = aws("s3", "sync", str(local), "s3://io/research/backup")
        assert synced.returncode == 0, synced.stderr
        tree = aws("s3", "ls", "--recursive", "s3://io/research/backup/")
        assert sorted(line.split(maxsplit=3)[3] for line in tree.stdout.splitlines()) == [
            "research/backup/nested/deeper/blob.bin",
            "research/backup/nested/notes ü.md",
            "research/backup/readme.txt",
        ]
        again = aws("s3", "sync", str(local), "s3://io/research/backup")
        assert again.returncode == 0, again.stderr
        assert again.stdout == ""  # nothing changed: nothing sent

        down = tmp_path / "down"
        pulled = aws("s3", "sync", "s3://io/research/backup", str(down))
        assert pulled.returncode == 0, pulled.stderr
        assert (down / "nested" / "deeper" / "blob.bin").read_bytes() == bytes(range(256)) * 1200
        assert (down / "nested" / "notes ü.md").read_text() == "# notes\n"

        removed = aws("s3", "rm", "--recursive", "s3://io/research/backup/")
        assert removed.returncode == 0, removed.stderr
        assert not Node.objects.filter(workspace=demo.research, type=Node.FILE, path__startswith="/backup/").exists()


def test_aws_cli_with_a_read_scope_lists_its_branch_and_cannot_write(demo, aws_program, tmp_path):
    alpha = demo.node("/common/projects/alpha")
    _token, secret = demo.token(demo.alice, scopes=[f"node:{alpha.uuid}:r"])
    (tmp_path / "new.txt").write_text("no\n")
    with live_server() as base:
        aws = Aws(aws_program, base, secret, tmp_path)
        listed = aws("s3", "ls", "--recursive", "s3://io/")
        assert listed.returncode == 0, listed.stderr
        assert sorted(line.split(maxsplit=3)[3] for line in listed.stdout.splitlines()) == [
            "common/projects/alpha/data.csv",
            "common/projects/alpha/readme.txt",
        ]
        written = aws("s3", "cp", str(tmp_path / "new.txt"), "s3://io/common/projects/alpha/new.txt")
        assert written.returncode != 0
        assert "AccessDenied" in written.stderr
        outside = aws("s3", "cp", "s3://io/research/paper.txt", str(tmp_path / "paper.txt"))
        assert outside.returncode != 0
        assert "404" in outside.stderr or "NoSuchKey" in outside.stderr
        assert not (tmp_path / "paper.txt").exists()


def test_aws_cli_copies_a_file_over_its_multipart_threshold_both_ways(demo, aws_program, tmp_path):
    _token, secret = demo.token(demo.alice)
    local = tmp_path / "big.bin"
    local.write_bytes(bytes(range(256)) * (4096 * 20))  # 20 MiB: parts of 8 MiB
    with live_server() as base:
        aws = Aws(aws_program, base, secret, tmp_path)
        up = aws("s3", "cp", str(local), "s3://io/research/big.bin")
        assert up.returncode == 0, up.stderr
        assert demo.node("/research/big.bin").md5.endswith("-3")
        down = aws("s3", "cp", "s3://io/research/big.bin", str(tmp_path / "back.bin"))
        assert down.returncode == 0, down.stderr
        assert (tmp_path / "back.bin").read_bytes() == local.read_bytes()
