"""The token policy's settings are read where they are used; a mistyped one stops the start-up instead (a system
check, run by every command and when the WSGI application loads), saying which and why."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.checks import CheckMessage

from cellsadmin.checks import COUNTS, DURATIONS, token_policy
from tests.support.servers import run_manage, scratch_env


def _ids(messages: list[CheckMessage]) -> list[str | None]:
    return [message.id for message in messages]


def test_the_defaults_pass():
    assert token_policy() == []


@pytest.mark.parametrize("name", DURATIONS)
@pytest.mark.parametrize("value", ["abc", "20", "-3d", "0d", "1d1d", "٣d", ""])
def test_a_duration_that_is_none_is_an_error_naming_the_setting(settings, name, value):
    setattr(settings, name, value)
    messages = token_policy()
    assert _ids(messages) == ["cellsadmin.E003"]
    assert messages[0].msg.startswith(f"{name}: invalid duration")


@pytest.mark.parametrize("name", COUNTS)
def test_a_negative_count_is_an_error_naming_the_setting(settings, name):
    setattr(settings, name, -1)
    assert [(message.id, message.msg) for message in token_policy()] == [
        ("cellsadmin.E004", f"{name} must not be negative.")
    ]


def test_the_check_stops_every_command(tmp_path: Path):
    result = run_manage(scratch_env(tmp_path, TOKEN_MAX_LIFETIME="one year"), "user_token", "-u", "alice")
    assert result.returncode != 0
    assert "(cellsadmin.E003) TOKEN_MAX_LIFETIME: invalid duration 'one year'" in result.stderr
