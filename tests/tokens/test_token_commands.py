from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.utils import timezone

from tests.support.commands import run_command
from tokens.audit import AuditEvent
from tokens.models import PersonalAccessToken
from tokens.services import token_create

check = PersonalAccessToken.objects.authenticate


@pytest.fixture
def tokens(demo):
    made = {}
    for owner, label, days in [(demo.alice, "alice-1", 30), (demo.alice, "alice-2", 3), (demo.bob, "bob-1", 30)]:
        made[label] = token_create(owner=owner, label=label, expires_in=timedelta(days=days), via="console")
    return made


def one_line_error(capsys, code):
    captured = capsys.readouterr()
    assert code != 0
    assert len(captured.err.strip().splitlines()) == 1
    return captured.err


def test_list_json_by_user_and_status(tokens, capsys):
    assert run_command("token_list", "--json") == 0
    assert len(json.loads(capsys.readouterr().out)) == 3
    # alice-2 lives 3 days: it is "Expiring soon" in its last quarter.
    with time_machine.travel(timezone.now() + timedelta(days=2, hours=6, seconds=1)):
        assert run_command("token_list", "-u", "alice", "--status", "expiring", "--json") == 0
    rows = json.loads(capsys.readouterr().out)
    assert [row["label"] for row in rows] == ["alice-2"]
    assert all("token" not in row for row in rows)


def test_list_table_shows_every_scope_kind(demo, capsys):
    alpha = demo.node("/common/projects/alpha")
    demo.token(
        demo.alice, label="kinds", scopes=["node:*:r", f"node:{alpha.uuid}:rw", "protocol:webdav", "ip:192.0.2.0/24"]
    )
    demo.token(demo.bob, label="manager", scopes=["tokens:self"])
    assert run_command("token_list") == 0
    lines = {line.split()[2]: line for line in capsys.readouterr().out.splitlines()[1:]}
    assert lines["kinds"].endswith("node:*:r 1 node protocol:webdav ip:192.0.2.0/24")
    assert lines["manager"].endswith("all tokens:self")


def test_list_help_explains_the_scopes_column(capsys):
    assert run_command("token_list", "--help") == 0
    assert "protocol:rest|webdav|s3" in capsys.readouterr().out


def test_list_table_never_shows_secrets(tokens, capsys):
    assert run_command("token_list") == 0
    out = capsys.readouterr().out
    assert "alice-1" in out and "Never used" in out
    assert not any(raw in out for _token, raw in tokens.values())


def test_delete_dry_run_changes_nothing(tokens, capsys):
    assert run_command("token_delete", "-u", "alice", "--dry-run") == 0
    assert "2 token(s) would be deleted" in capsys.readouterr().out
    assert PersonalAccessToken.objects.count() == 3
    assert not AuditEvent.objects.filter(event="deleted").exists()


def test_delete_by_id_and_the_token_is_refused(tokens, capsys):
    token, raw = tokens["bob-1"]
    assert run_command("token_delete", token.lookup_id, "--reason", "leaked") == 0
    assert check(raw) is None
    assert AuditEvent.objects.get(event="deleted").reason == "leaked"
    # Revoked, and still listed until the retention removes it; deleting it again removes its record.
    assert PersonalAccessToken.objects.get(pk=token.pk).status == "Revoked"
    assert run_command("token_list", "--status", "revoked") == 0
    listed = capsys.readouterr().out
    assert "Revoked (deleted)" in listed and "revoked 0\xa0minutes ago" in listed
    assert run_command("token_delete", token.lookup_id) == 0
    assert PersonalAccessToken.objects.count() == 2


def test_deleting_from_the_command_line_emails_the_owner(
    tokens, capsys, mailoutbox, django_capture_on_commit_callbacks
):
    token, raw = tokens["bob-1"]
    with django_capture_on_commit_callbacks(execute=True):
        assert run_command("token_delete", token.lookup_id, "--reason", "leaked") == 0
    [message] = mailoutbox
    assert message.to == ["bob@example.com"]
    assert (
        f'an administrator deleted your personal access token "bob-1" (id {token.lookup_id}) from the command line.'
        in (message.body)
    )
    assert "Reason given: leaked" in message.body and raw not in message.body


def test_delete_by_last_use(tokens, capsys):
    check(tokens["alice-1"][1])
    with time_machine.travel(timezone.now() + timedelta(days=2)):
        check(tokens["bob-1"][1])
        assert run_command("token_delete", "--last-used-before", "1d") == 0
    assert set(PersonalAccessToken.objects.with_status("revoked").values_list("label", flat=True)) == {
        "alice-1",
        "alice-2",
    }
    assert set(PersonalAccessToken.objects.filter(revoked_at=None).values_list("label", flat=True)) == {"bob-1"}


def test_delete_needs_a_selector(tokens, capsys):
    assert "name token ids" in one_line_error(capsys, run_command("token_delete"))
    assert "no token" in one_line_error(capsys, run_command("token_delete", "nosuchid"))
    assert "invalid time" in one_line_error(capsys, run_command("token_delete", "--last-used-before", "soon"))
    assert PersonalAccessToken.objects.count() == 3


def test_rotate_prints_a_new_working_token(tokens, capsys):
    token, raw = tokens["alice-1"]
    assert run_command("token_rotate", str(token.uuid), "-q") == 0
    new_raw = capsys.readouterr().out.strip()
    assert check(raw) is None
    assert check(new_raw).label == "alice-1"
    assert "no token" in one_line_error(capsys, run_command("token_rotate", "nosuchid"))


def test_rotate_past_a_lowered_maximum_shortens_and_says_so(tokens, capsys, settings):
    token, _raw = tokens["alice-1"]
    settings.TOKEN_MAX_LIFETIME = "7d"
    assert run_command("token_rotate", token.lookup_id) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[-1] == (
        "Note: This instance now lets a token live at most 7 days, so the new token was shortened: "
        "it lives 7 days instead of 30 days."
    )
    new = PersonalAccessToken.objects.get(label="alice-1", revoked_at=None)
    assert new.expires_at - new.created_at == timedelta(days=7)


def test_quiet_rotate_past_a_lowered_maximum_prints_only_the_token_and_notes_on_stderr(tokens, capsys, settings):
    token, _raw = tokens["alice-1"]
    settings.TOKEN_MAX_LIFETIME = "7d"
    assert run_command("token_rotate", token.lookup_id, "-q") == 0
    captured = capsys.readouterr()
    assert check(captured.out.strip()).label == "alice-1" and captured.out.count("\n") == 1
    assert captured.err.startswith("token_rotate: note: This instance now lets a token live at most 7 days")


def test_audit_names_a_deleted_tokens_refusals_with_their_first_and_last_time(tokens, capsys):
    token, raw = tokens["bob-1"]
    run_command("token_delete", token.lookup_id)
    with time_machine.travel(datetime(2026, 3, 2, 9, 0, 5, tzinfo=UTC), tick=False) as traveller:
        check(raw, ip="203.0.113.9")
        traveller.shift(timedelta(seconds=30))
        check(raw, ip="203.0.113.9")
    capsys.readouterr()
    assert run_command("token_audit", "--event", "refused") == 0
    assert capsys.readouterr().out.splitlines() == [
        f"2026-03-02 09:00:05  use refused x2 (last 09:00:35)  token {token.lookup_id} 'bob-1' of bob by - "
        "from 203.0.113.9: revoked"
    ]


def test_audit_json_gives_a_refusals_last_time_seen(tokens, capsys):
    _token, raw = tokens["bob-1"]
    with time_machine.travel(datetime(2026, 3, 2, 9, 0, 5, tzinfo=UTC), tick=False) as traveller:
        check(raw, login="alice", ip="203.0.113.9")
        traveller.shift(timedelta(seconds=30))
        check(raw, login="alice", ip="203.0.113.9")
    assert run_command("token_audit", "--event", "refused", "--json") == 0
    [event] = json.loads(capsys.readouterr().out)
    assert (event["at"], event["last_seen"], event["count"]) == (
        "2026-03-02T09:00:05+00:00",
        "2026-03-02T09:00:35+00:00",
        2,
    )


def test_rotating_from_the_command_line_emails_the_owner(
    tokens, capsys, mailoutbox, django_capture_on_commit_callbacks
):
    token, _raw = tokens["alice-1"]
    with django_capture_on_commit_callbacks(execute=True):
        assert run_command("token_rotate", token.lookup_id, "-q") == 0
    raw = capsys.readouterr().out.strip()
    [message] = mailoutbox
    assert message.to == ["alice@example.com"] and "from the command line" in message.body
    assert raw not in message.body


def test_prune_and_reminders(tokens, capsys):
    with time_machine.travel(timezone.now() + timedelta(days=3, hours=1)):
        assert run_command("token_reminders") == 0
        assert "0 reminder(s)" in capsys.readouterr().out
    with time_machine.travel(timezone.now() + timedelta(days=40)):
        assert run_command("token_prune", "--older-than", "30d", "--dry-run") == 0
        assert "1 expired token(s) would be pruned" in capsys.readouterr().out
        assert run_command("token_prune", "--older-than", "30d") == 0
    assert PersonalAccessToken.objects.count() == 2


def test_reminders_command_sends(tokens, capsys, mailoutbox):
    with time_machine.travel(timezone.now() + timedelta(days=2, hours=1)):
        assert run_command("token_reminders") == 0
    out = capsys.readouterr().out
    assert "1 reminder(s) sent" in out and "'alice-2' ends in 22 hours" in out
    assert len(mailoutbox) == 1


def test_reminders_command_leaves_a_token_shorter_than_the_threshold_alone(tokens, capsys, mailoutbox):
    assert run_command("token_reminders") == 0
    assert "0 reminder(s) sent" in capsys.readouterr().out
    assert mailoutbox == []


def test_audit_json_with_filters(tokens, capsys):
    token, _raw = tokens["bob-1"]
    run_command("token_delete", token.lookup_id)
    capsys.readouterr()
    assert run_command("token_audit", "--owner", "bob", "--json") == 0
    events = json.loads(capsys.readouterr().out)
    assert [event["event"] for event in events] == ["deleted", "created"]
    assert events[0]["actor"] == "command line"
    assert run_command("token_audit", "--event", "created", "--since", "1h") == 0
    assert capsys.readouterr().out.count("token created") == 3
    assert "invalid choice" in one_line_error(capsys, run_command("token_audit", "--event", "bogus"))


# A login that names no user is an error, never "0 tokens" (a misspelled login must not look like success)


@pytest.mark.parametrize(
    "argv",
    [
        ["token_list", "-u", "nobody"],
        ["token_list", "--user", "nobody", "--json"],
        ["token_delete", "-u", "nobody"],
        ["token_delete", "--user", "nobody", "--dry-run"],
        ["token_audit", "--owner", "nobody"],
        ["token_audit", "--actor", "nobody", "--json"],
        ["user_token", "-u", "nobody", "-e", "1d"],
    ],
)
def test_a_login_that_names_no_user_is_a_one_line_error(tokens, capsys, argv):
    code = run_command(*argv)
    captured = capsys.readouterr()
    assert code == 1
    assert len(captured.err.strip().splitlines()) == 1 and captured.out == ""


@pytest.mark.parametrize(
    "argv",
    [
        ["token_list", "-u", "nobody"],
        ["token_delete", "-u", "nobody"],
        ["token_audit", "--owner", "nobody"],
        ["token_audit", "--actor", "nobody"],
        ["user_token", "-u", "nobody", "-e", "1d"],
    ],
)
def test_the_error_names_the_login(tokens, capsys, argv):
    assert "no user with login 'nobody'" in one_line_error(capsys, run_command(*argv))


def test_deleting_the_tokens_of_no_user_deletes_nothing(tokens, capsys):
    run_command("token_delete", "-u", "nobody", "--status", "active")
    assert PersonalAccessToken.objects.count() == 3
    assert not AuditEvent.objects.filter(event="deleted").exists()


def test_logins_match_regardless_of_case(tokens, capsys):
    assert run_command("token_list", "-u", "ALICE", "--json") == 0
    assert {row["label"] for row in json.loads(capsys.readouterr().out)} == {"alice-1", "alice-2"}


def test_the_audit_trail_of_a_deleted_user_is_still_found_by_login(demo, capsys):
    token_create(owner=demo.bob, label="old", expires_in=timedelta(days=1), via="console")
    demo.bob.delete()
    assert run_command("token_audit", "--owner", "bob", "--json") == 0
    assert [event["event"] for event in json.loads(capsys.readouterr().out)] == ["created"]


@pytest.mark.parametrize("actor", ["command line", "system", "Command Line"])
def test_the_audit_actors_that_are_no_user_are_no_error(tokens, capsys, actor):
    assert run_command("token_audit", "--actor", actor) == 0


# Dates and counts beyond what the database holds


@pytest.mark.parametrize(
    "argv",
    [
        ["--until", "9999-12-31T23:00:00-05:00"],
        ["--since", "0001-01-01T00:00:00+05:00"],
        ["--until", "9999-12-31"],
        ["--limit", "1000000"],
    ],
)
def test_audit_bounds_at_the_ends_of_the_calendar_keep_every_record(tokens, capsys, argv):
    assert run_command("token_audit", "--json", *argv) == 0
    assert len(json.loads(capsys.readouterr().out)) == 3


def test_deleting_what_was_last_used_before_year_1_deletes_nothing(tokens, capsys):
    assert run_command("token_delete", "--last-used-before", "0001-01-01T00:00:00+01:00") == 0
    assert PersonalAccessToken.objects.count() == 3


@pytest.mark.parametrize("when", ["2026-02-30", "2026-02-30T10:00:00", "2026-13-01"])
def test_a_date_that_does_not_exist_is_a_one_line_error(tokens, capsys, when):
    assert "invalid time" in one_line_error(capsys, run_command("token_audit", "--since", when))


@pytest.mark.parametrize("limit", ["99999999999999999999", "-1", "1000001", "ten"])
def test_an_audit_limit_out_of_range_is_a_one_line_error(tokens, capsys, limit):
    assert "invalid count" in one_line_error(capsys, run_command("token_audit", "--limit", limit))
