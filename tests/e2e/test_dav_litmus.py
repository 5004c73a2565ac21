"""litmus, the WebDAV conformance suite, against the real server: every suite passes (basic, copymove, props,
locks, http)."""

from __future__ import annotations

import re
import subprocess

import pytest

from tests.support.dav_support import DavClient, live_server
from tests.support.tools import require_tool

pytestmark = pytest.mark.system

SUITES = ["basic", "copymove", "props", "locks", "http"]


@pytest.mark.django_db(transaction=True)
def test_litmus_passes_every_suite_with_a_token(demo, tmp_path):
    litmus = require_tool("litmus")
    _token, secret = demo.token(demo.alice)
    assert DavClient("alice", secret).request("MKCOL", "/dav/research/litmus").status == 201
    with live_server() as base:
        result = subprocess.run(
            [litmus, "-k", f"{base}/dav/research/litmus/", "alice", secret],
            capture_output=True,
            text=True,
            timeout=300,
            env={"TESTS": " ".join(SUITES), "PATH": "/usr/bin:/bin"},
            check=False,
            cwd=tmp_path,  # litmus writes debug.log and child.log there
        )
    output = result.stdout + result.stderr
    summaries = re.findall(r"<- summary for `(\w+)': of (\d+) tests run: (\d+) passed, (\d+) failed", output)
    assert {suite for suite, *_ in summaries} == set(SUITES), output
    for suite, _run, _passed, failed in summaries:
        assert failed == "0", f"litmus {suite}:\n{output}"
    assert "WARNING" not in output, output
    assert result.returncode == 0, output
