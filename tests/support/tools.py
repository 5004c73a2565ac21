"""The system programs that end-to-end tests drive."""

from __future__ import annotations

import os
import shutil

import pytest


def require_tool(command: str, package: str | None = None) -> str:
    """The path of a system program the test drives; skip (or, in CI, fail) when it is missing."""
    path = shutil.which(command)
    if path is None:
        message = f"needs the Debian package {package or command} (make test installs it as root)"
        if os.environ.get("REQUIRE_SYSTEM_TOOLS") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return path
