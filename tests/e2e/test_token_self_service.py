"""The end-to-end script (scripts/token_self_service.py) against a live server, with nothing but a tokens:self
token: it lists, creates a narrower token, is refused a stronger one, rotates itself and deletes the child."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta

from tests.support.servers import ROOT
from tokens.audit import AuditEvent
from tokens.models import PersonalAccessToken


def test_a_tokens_self_token_manages_its_owners_tokens_and_itself(live_server, demo, tmp_path):
    alpha = demo.node("/common/projects/alpha")
    parent, raw = demo.token(
        demo.alice,
        label="ci job",
        scopes=["tokens:self", f"node:{alpha.uuid}:rw", "protocol:rest", "ip:127.0.0.1"],
        expires_in=timedelta(days=5),
    )
    demo.token(demo.alice, label="laptop")
    saved = tmp_path / "token.txt"
    result = subprocess.run(
        [sys.executable, "scripts/token_self_service.py", live_server.url, "--write-token", str(saved)],
        cwd=ROOT,
        env={**os.environ, "CELLSADMIN_TOKEN": raw},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 tokens: ci job, laptop" in result.stdout or "2 tokens: laptop, ci job" in result.stdout
    assert "ok  ask for a stronger token (403)" in result.stdout and "where the parent may not" in result.stdout
    assert "ok  ask for a token that outlives me (403)" in result.stdout and "past the parent's end" in result.stdout
    assert raw not in result.stdout and saved.stat().st_mode & 0o777 == 0o600

    new = PersonalAccessToken.objects.authenticate(saved.read_text().strip(), protocol="REST", ip="127.0.0.1")
    assert new is not None and new.label == "ci job"
    assert new.expires_at == parent.expires_at and new.scopes == parent.scopes
    assert set(PersonalAccessToken.objects.filter(revoked_at=None).values_list("label", flat=True)) == {
        "ci job",
        "laptop",
    }
    events = list(AuditEvent.objects.filter(via="rest").order_by("at").values_list("event", "token_label"))
    assert events == [
        ("created", "step token"),
        ("rotated", "ci job"),
        ("deleted", "step token"),
    ]
    child = AuditEvent.objects.get(event="created", token_label="step token")
    assert child.reason == f"through token {parent.lookup_id}"
