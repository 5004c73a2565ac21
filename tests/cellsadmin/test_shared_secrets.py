"""With a database server the instance refuses to start unless SECRET_KEY and TOKEN_PEPPERS come from the
environment (a system check, run by every command and when the WSGI application loads); SQLite generates them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.support.servers import ROOT, free_port, run_manage, scratch_env

# Never connected to: the check needs only the URL's scheme.
SERVER = "postgres://cellsadmin@127.0.0.1:1/cellsadmin"
SECRET_KEY = "a-secret-key-from-the-environment-Qm4Zr8Tx2Lw6Np0Kd3Hs7Vb1Yc5Gf9Je"


def test_sqlite_generates_the_secrets_into_data_dir(tmp_path: Path):
    result = run_manage(scratch_env(tmp_path), "check")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "secret_key").read_text().strip()
    assert (tmp_path / "token_pepper").read_text().strip()


def test_a_database_server_without_either_secret_fails_the_check_and_names_both(tmp_path: Path):
    result = run_manage(scratch_env(tmp_path, DATABASE_URL=SERVER), "check")
    assert result.returncode != 0
    assert "(cellsadmin.E001) SECRET_KEY and TOKEN_PEPPERS are not set: with a database server" in result.stderr
    assert not (tmp_path / "secret_key").exists()
    assert not (tmp_path / "token_pepper").exists()


def test_a_database_server_without_the_peppers_fails_the_check_and_names_them(tmp_path: Path):
    result = run_manage(scratch_env(tmp_path, DATABASE_URL=SERVER, SECRET_KEY=SECRET_KEY), "check")
    assert result.returncode != 0
    assert "(cellsadmin.E001) TOKEN_PEPPERS is not set" in result.stderr
    assert not (tmp_path / "token_pepper").exists()


def test_every_command_runs_the_check(tmp_path: Path):
    result = run_manage(scratch_env(tmp_path, DATABASE_URL=SERVER, TOKEN_PEPPERS="1:k"), "user_token", "-u", "alice")
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_a_database_server_with_both_from_the_environment_passes(tmp_path: Path):
    env = scratch_env(tmp_path, DATABASE_URL=SERVER, SECRET_KEY=SECRET_KEY, TOKEN_PEPPERS="2:new-key,1:old-key")
    result = run_manage(env, "check")
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_gunicorn_refuses_to_load_the_application_without_them(tmp_path: Path):
    env = scratch_env(tmp_path, DATABASE_URL=SERVER, SECRET_KEY=SECRET_KEY)
    command = [sys.executable, "-m", "gunicorn", "--workers", "1", "--bind", f"127.0.0.1:{free_port()}"]
    result = subprocess.run(
        [*command, "cellsadmin.wsgi:application"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode != 0
    assert "ImproperlyConfigured: cellsadmin.E001: TOKEN_PEPPERS is not set: with a database server" in result.stderr


def test_peppers_that_do_not_read_as_keys_fail_the_check_saying_why(tmp_path: Path):
    # Else the instance would start and refuse every token (a 500) on its first use.
    for peppers, why in (
        ("s3cret-key", "entries must read VERSION:KEY"),
        ("2:s3cret-key,other-key", "entries must read VERSION:KEY"),
        ("v2:s3cret-key", "entries must read VERSION:KEY"),
        ("1:", "entries must read VERSION:KEY"),
        ("1:s3cret-key,1:other-key", "names a version twice"),
    ):
        result = run_manage(scratch_env(tmp_path, TOKEN_PEPPERS=peppers), "check")
        assert result.returncode != 0, peppers
        assert f"(cellsadmin.E002) TOKEN_PEPPERS {why}" in result.stderr, (peppers, result.stderr[-500:])
        assert "s3cret" not in result.stderr + result.stdout  # the message never shows a key


def test_gunicorn_refuses_to_load_the_application_with_unreadable_peppers(tmp_path: Path):
    env = scratch_env(tmp_path, TOKEN_PEPPERS="1:k,1:l")
    command = [sys.executable, "-m", "gunicorn", "--workers", "1", "--bind", f"127.0.0.1:{free_port()}"]
    result = subprocess.run(
        [*command, "cellsadmin.wsgi:application"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode != 0
    assert "ImproperlyConfigured: cellsadmin.E002: TOKEN_PEPPERS names a version twice" in result.stderr
