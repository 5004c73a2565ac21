"""s3cmd against a running server: ``ls``, ``put``, ``get``, ``del`` with a PAT as the access key (s3cmd checks
every ETag against the MD5 of what it sent or received)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from files.models import Node
from tests.support.dav_support import live_server
from tests.support.s3_support import SECRET

pytestmark = [pytest.mark.system, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def s3cmd_program() -> str:
    # From the dev extras: beside the interpreter running the tests, or on PATH.
    beside = Path(sys.executable).parent / "s3cmd"
    found = str(beside) if beside.exists() else shutil.which("s3cmd")
    if found is None:
        pytest.skip("needs s3cmd (the dev extras install it)")
    return found


class S3cmd:
    def __init__(self, program: str, base: str, access_key: str, home: Path) -> None:
        host = urlsplit(base).netloc
        config = home / "s3cfg"
        config.write_text(
            "[default]\n"
            f"access_key = {access_key}\n"
            f"secret_key = {SECRET}\n"
            f"host_base = {host}\n"
            f"host_bucket = {host}\n"
            "use_https = False\n"
            "signature_v2 = False\n"
            "bucket_location = us-east-1\n"
        )
        self.command = [program, "--config", str(config), "--no-progress"]
        self.env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home)}

    def __call__(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*self.command, *args], capture_output=True, text=True, env=self.env, timeout=120, check=False
        )


def test_s3cmd_lists_puts_gets_and_deletes(demo, s3cmd_program, tmp_path):
    _token, secret = demo.token(demo.alice)
    local = tmp_path / "upload ü.bin"
    local.write_bytes(bytes(range(256)) * 800)
    with live_server() as base:
        s3cmd = S3cmd(s3cmd_program, base, secret, tmp_path)
        listed = s3cmd("ls", "s3://io/")
        assert listed.returncode == 0, listed.stderr
        assert [line.split()[-1] for line in listed.stdout.splitlines()] == ["s3://io/common/", "s3://io/research/"]

        put = s3cmd("put", str(local), "s3://io/research/in/upload ü.bin")
        assert put.returncode == 0, put.stderr
        assert demo.node("/research/in/upload ü.bin").size == 256 * 800

        fetched = tmp_path / "fetched.bin"
        got = s3cmd("get", "s3://io/research/in/upload ü.bin", str(fetched))
        assert got.returncode == 0, got.stderr
        assert fetched.read_bytes() == local.read_bytes()

        deleted = s3cmd("del", "s3://io/research/in/upload ü.bin")
        assert deleted.returncode == 0, deleted.stderr
        assert not Node.objects.filter(name="upload ü.bin").exists()


def test_s3cmd_with_a_read_scope_is_refused_writes_and_outside(demo, s3cmd_program, tmp_path):
    alpha = demo.node("/common/projects/alpha")
    _token, secret = demo.token(demo.alice, scopes=[f"node:{alpha.uuid}:r"])
    local = tmp_path / "new.txt"
    local.write_text("no\n")
    with live_server() as base:
        s3cmd = S3cmd(s3cmd_program, base, secret, tmp_path)
        listed = s3cmd("ls", "s3://io/common/projects/alpha/")
        assert listed.returncode == 0, listed.stderr
        assert sorted(line.split()[-1] for line in listed.stdout.splitlines()) == [
            "s3://io/common/projects/alpha/data.csv",
            "s3://io/common/projects/alpha/readme.txt",
        ]
        put = s3cmd("put", str(local), "s3://io/common/projects/alpha/new.txt")
        assert put.returncode != 0
        assert "AccessDenied" in put.stderr
        got = s3cmd("get", "s3://io/research/paper.txt", str(tmp_path / "paper.txt"))
        assert got.returncode != 0
        assert not Node.objects.filter(name="new.txt").exists()
