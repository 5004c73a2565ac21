"""rclone driven as a client of a running server (its WebDAV and S3 backends), and a small tree to send."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path


class Rclone:
    """``rclone ARGS`` with the backend's flags after them, in a home of its own and without retries."""

    def __init__(self, program: str, home: Path, backend_flags: list[str]) -> None:
        self.program = program
        self.flags = [
            "--config",
            str(home / "rclone.conf"),
            *backend_flags,
            "--low-level-retries",
            "1",
            "--retries",
            "1",
        ]
        self.env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home)}

    def __call__(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [self.program, *args, *self.flags], capture_output=True, text=True, env=self.env, timeout=120, check=False
        )


def sample_tree(root: Path) -> Path:
    """A folder, a nested one with a non-ASCII name inside, and a binary file: what a sync has to get right."""
    (root / "nested" / "deeper").mkdir(parents=True)
    (root / "readme.txt").write_text("hello from rclone\n")
    (root / "nested" / "notes ü.md").write_text("# notes\n")
    (root / "nested" / "deeper" / "blob.bin").write_bytes(bytes(range(256)) * 1200)
    return root
