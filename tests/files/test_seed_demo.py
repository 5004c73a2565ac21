from __future__ import annotations

import io

from django.core.management import call_command

from files.models import Grant, Node
from people.models import User


def test_demo_data_set(demo):
    assert demo.admin.is_admin and not demo.alice.is_admin and not demo.bob.is_admin
    assert demo.alice.check_password("demo-password-for-tests")
    assert demo.common.label == "Common Files" and demo.research.label == "Research"
    levels = {(g.user.login, g.workspace.slug): g.level for g in Grant.objects.select_related("user", "workspace")}
    assert levels == {
        ("alice", "common"): "rw",
        ("bob", "common"): "r",
        ("admin", "common"): "rw",
        ("alice", "research"): "rw",
    }
    for path in [
        "/common/welcome.txt",
        "/common/projects/alpha/readme.txt",
        "/common/projects/alpha/data.csv",
        "/common/projects/beta/notes.md",
        "/research/paper.txt",
    ]:
        assert demo.node(path).type == "file"


def test_running_again_changes_nothing(demo):
    before = (list(Node.objects.values_list("uuid", "etag", "blob")), list(User.objects.values_list("password")))
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    after = (list(Node.objects.values_list("uuid", "etag", "blob")), list(User.objects.values_list("password")))
    assert before == after
    assert "nothing changed" in out.getvalue()


def test_random_password_is_printed_once(db, monkeypatch):
    monkeypatch.delenv("DEMO_PASSWORD", raising=False)
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    password = out.getvalue().split("password: ")[1].split()[0]
    assert User.objects.get(login="bob").check_password(password)
    again = io.StringIO()
    call_command("seed_demo", stdout=again)
    assert password not in again.getvalue()
