from __future__ import annotations

import json
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from tests.support.commands import run_command
from tests.support.mail_support import UNREACHABLE
from tokens.models import PersonalAccessToken


def run(*args: str) -> int:
    return run_command("user_token", *args)


@pytest.fixture
def frozen():
    with time_machine.travel(timezone.now(), tick=False):
        yield timezone.now()


def test_quiet_prints_only_the_token(demo, capsys):
    assert run("-u", "alice", "-e", "20d", "-q") == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and out.startswith("cpat_")
    assert PersonalAccessToken.objects.authenticate(out.strip()).owner == demo.alice


def test_hard_limit(demo, capsys, frozen):
    assert run("-u", "alice", "-e", "20d", "-q") == 0
    token = PersonalAccessToken.objects.get()
    assert token.expiration_model == "hard"
    assert token.expires_at == frozen + timedelta(days=20)
    assert token.created_via == "cli" and token.created_by is None


def test_a_command_line_token_is_marked_as_issued_by_an_administrator(demo, capsys):
    assert run("-u", "alice", "-e", "20d", "-q") == 0
    assert PersonalAccessToken.objects.get().issued_by_admin


def test_the_owner_of_a_command_line_token_is_emailed_without_the_secret(demo, capsys, mailoutbox):
    assert run("-u", "alice", "-e", "20d", "-l", "backup", "-q") == 0
    raw = capsys.readouterr().out.strip()
    [message] = mailoutbox
    assert message.to == ["alice@example.com"]
    assert message.subject == "A personal access token was created for you"
    assert 'an administrator created the personal access token "backup"' in message.body
    assert "from the command line" in message.body
    assert raw not in message.body and raw[5:17] in message.body


def test_the_token_is_printed_even_when_the_mail_server_is_down(demo, capsys, settings):
    settings.EMAIL_BACKEND = UNREACHABLE
    assert run("-u", "alice", "-e", "20d", "-q") == 0
    assert PersonalAccessToken.objects.authenticate(capsys.readouterr().out.strip()).owner == demo.alice


def test_auto_refresh_with_bare_seconds(demo, capsys, frozen):
    assert run("-u", "alice", "-a", "3600", "-q") == 0
    token = PersonalAccessToken.objects.get()
    assert token.expiration_model == "auto"
    assert token.refresh_window == timedelta(hours=1)
    assert token.absolute_end == frozen + timedelta(days=365)  # the instance's maximum lifetime
    assert token.expires_at == frozen + timedelta(hours=1)


def test_auto_refresh_capped_by_expire(demo, capsys, frozen):
    assert run("-u", "alice", "-a", "1h", "-e", "1d12h", "-q") == 0
    token = PersonalAccessToken.objects.get()
    assert token.refresh_window == timedelta(hours=1)
    assert token.absolute_end == frozen + timedelta(days=1, hours=12)


def test_repeated_and_comma_separated_scopes(demo, capsys):
    alpha, beta = demo.node("/common/projects/alpha"), demo.node("/common/projects/beta")
    paper = demo.node("/research/paper.txt")
    assert (
        run(
            "-u",
            "alice",
            "-e",
            "1d",
            "-s",
            f"node:{alpha.uuid}:r,node:{beta.uuid}:rw",
            "--scope",
            f"node:{paper.uuid}:w",
            "-q",
        )
        == 0
    )
    assert set(PersonalAccessToken.objects.get().scopes) == {
        f"node:{alpha.uuid}:r",
        f"node:{beta.uuid}:rw",
        f"node:{paper.uuid}:w",
    }


def test_label_and_default_label(demo, capsys):
    assert run("-u", "alice", "-e", "1d", "-l", "backup script", "-q") == 0
    assert run("-u", "alice", "-e", "1d", "-q") == 0
    labels = set(PersonalAccessToken.objects.values_list("label", flat=True))
    assert "backup script" in labels
    assert any(label.startswith("Command line token") for label in labels)


def test_verbose_output_describes_the_token_and_its_use(demo, capsys):
    alpha = demo.node("/common/projects/alpha")
    assert run("-u", "ALICE", "-a", "1h", "-e", "30d", "-s", f"node:{alpha.uuid}:r") == 0
    out = capsys.readouterr().out
    raw = out.splitlines()[0]
    for expected in [
        "alice",
        "Auto Refresh",
        "Expires",
        f"node:{alpha.uuid}:r (/common/projects/alpha)",
        f"Authorization: Bearer {raw}",
        "/dav/",
        "only time",
    ]:
        assert expected in out


def test_json_output(demo, capsys):
    assert run("-u", "alice", "-e", "2h", "--json") == 0
    data = json.loads(capsys.readouterr().out)
    assert data["token"].startswith("cpat_")
    assert data["owner"] == "alice" and data["expiration_model"] == "Hard Limit"
    assert data["scopes"] == []


def test_help_explains_use_and_scopes(capsys):
    assert run("--help") == 0
    out = capsys.readouterr().out
    assert "Bearer" in out and "WebDAV" in out and "node:<NODE_UUID>:rw" in out and "1d12h" in out


def test_help_has_a_token_scope_section_naming_every_kind(capsys):
    assert run("--help") == 0
    out = capsys.readouterr().out
    assert "TOKEN SCOPE" in out
    for kind in ("node:*:r", "protocol:rest", "protocol:webdav", "protocol:s3", "ip:", "tokens:self", "tokens:all"):
        assert kind in out, kind


def test_every_scope_kind(demo, capsys):
    assert run("-u", "alice", "-e", "1d", "-s", "node:*:r", "-s", "protocol:webdav", "-s", "ip:192.0.2.0/24") == 0
    out = capsys.readouterr().out
    assert PersonalAccessToken.objects.get().scopes == ["node:*:r", "protocol:webdav", "ip:192.0.2.0/24"]
    assert "node:*:r (every file alice can reach)" in out and "protocol:webdav" in out and "ip:192.0.2.0/24" in out


def test_a_webdav_token_is_described_with_its_webdav_use_only(demo, capsys):
    assert run("-u", "alice", "-e", "1d", "-s", "protocol:webdav") == 0
    out = capsys.readouterr().out
    assert "/dav/" in out and "Authorization: Bearer" not in out


def test_the_command_line_gives_tokens_all_to_an_administrators_token(demo, capsys):
    assert run("-u", "admin", "-e", "1d", "-s", "tokens:all", "-q") == 0
    assert PersonalAccessToken.objects.get().scopes == ["tokens:all"]


def _bad_inputs(demo):
    alpha = demo.node("/common/projects/alpha").uuid
    paper = demo.node("/research/paper.txt").uuid
    return [
        (["-u", "nobody", "-e", "1d"], "no user"),
        (["-u", "alice"], "-e DURATION"),
        (["-e", "1d"], "required"),
        (["-u", "alice", "-e", "0d"], "longer than zero"),
        (["-u", "alice", "-e=-5m"], "positive"),
        (["-u", "alice", "-e", "-5m"], "expected one argument"),
        (["-u", "alice", "-e", "soon"], "invalid duration"),
        (["-u", "alice", "-e", "20"], "add a unit"),
        (["-u", "alice", "-a", "0"], "longer than zero"),
        (["-u", "alice", "-e", "400d"], "at most"),
        (["-u", "alice", "-e", "1d", "-s", "node:nope:r"], "invalid scope"),
        (["-u", "alice", "-e", "1d", "-s", f"node:{alpha}:x"], "invalid scope"),
        (["-u", "alice", "-e", "1d", "-s", "node:00000000-0000-0000-0000-000000000000:r"], "can read"),
        (["-u", "bob", "-e", "1d", "-s", f"node:{paper}:r"], "can read"),
        (["-u", "bob", "-e", "1d", "-s", f"node:{alpha}:w"], "may only read"),
        (["-u", "bob", "-e", "1d", "-s", f"node:{alpha}:rw"], "may only read"),
        (["-u", "alice", "-e", "1d", "-s", "tokens:all"], "alice is no administrator"),
        (["-u", "alice", "-e", "1d", "-s", "protocol:ftp"], "invalid scope 'protocol:ftp'"),
        (["-u", "alice", "-e", "1d", "-s", "ip:192.0.2.1/24"], "did you mean 192.0.2.0/24"),
        (["-u", "alice", "-e", "1d", "-s", "files:all"], "unknown kind 'files'"),
        (["-u", "alice", "-e", "1d", "--bogus"], "unrecognized"),
        (["-u", "alice", "-e", "1d", "-q", "--json"], "not allowed"),
        (["-u", "alice", "-e", "1d", "-l", ""], "label"),
    ]


def test_every_bad_input_is_one_stderr_line_nonzero_exit_and_nothing_created(demo, capsys):
    for args, message in _bad_inputs(demo):
        code = run(*args)
        captured = capsys.readouterr()
        assert code != 0, args
        assert captured.out == "", args
        lines = captured.err.strip().splitlines()
        assert len(lines) == 1, (args, captured.err)
        assert message in lines[0], (args, lines[0])
    assert not PersonalAccessToken.objects.exists()


def test_inactive_user_is_refused(demo, capsys):
    demo.alice.is_active = False
    demo.alice.save()
    assert run("-u", "alice", "-e", "1d") == 1
    assert "inactive" in capsys.readouterr().err
    assert not PersonalAccessToken.objects.exists()


def test_alice_can_get_a_read_scope_on_alpha(demo, capsys):
    alpha = demo.node("/common/projects/alpha")
    assert run("-u", "alice", "-e", "1d", "-s", f"node:{alpha.uuid}:r", "-q") == 0


@pytest.mark.system
def test_quiet_prints_only_the_token_with_the_default_mail_backend(tmp_path):
    """The embedded default prints e-mails (the owner's notice) to the console: on stderr, never into the
    standard output a script reads the token from."""
    from tests.support.servers import manage, scratch_env

    env = scratch_env(tmp_path)
    manage(env, "migrate", "--noinput", "-v0")
    manage(env, "seed_demo")
    out = manage(env, "user_token", "-u", "alice", "-e", "1d", "-q")
    assert out.count("\n") == 1 and out.startswith("cpat_"), out


def test_the_default_label_says_command_line_and_names_the_public_id(demo, capsys):
    assert run("-u", "alice", "-e", "1d", "-q") == 0
    token = PersonalAccessToken.objects.authenticate(capsys.readouterr().out.strip())
    assert token.label == f"Command line token {token.lookup_id}"


def test_default_labels_of_tokens_made_in_the_same_minute_differ(demo, frozen, capsys):
    assert run("-u", "alice", "-e", "1d", "-q") == 0
    assert run("-u", "alice", "-e", "1d", "-q") == 0
    labels = list(PersonalAccessToken.objects.filter(owner=demo.alice).values_list("label", flat=True))
    assert len(labels) == len(set(labels))
