"""``gunicorn.conf.py``, the settings ``make serve`` runs with."""

from __future__ import annotations

import gc
import runpy

from tests.support.servers import ROOT, gunicorn, manage, request, scratch_env
from tokens import format as token_format

CONF = ROOT / "gunicorn.conf.py"


def test_a_worker_freezes_what_loading_the_application_allocated():
    post_worker_init = runpy.run_path(str(CONF))["post_worker_init"]
    assert gc.get_freeze_count() == 0
    try:
        post_worker_init(None)
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()


def test_the_access_log_names_no_header_that_could_carry_a_secret():
    access_log_format = runpy.run_path(str(CONF))["access_log_format"]
    assert "authorization" not in access_log_format.lower()
    assert "cookie" not in access_log_format.lower()
    assert "{x-forwarded-for}i" in access_log_format


def test_the_access_log_shows_a_token_in_a_url_as_its_public_id_only(tmp_path):
    raw, parts = token_format.generate()
    env = scratch_env(tmp_path / "data", SECRET_KEY="x", TOKEN_PEPPERS="1:p")
    manage(env, "migrate", "--noinput", "-v0")
    log_path = tmp_path / "gunicorn.log"
    with log_path.open("wb") as log, gunicorn(env, count=1, output=log) as (port,):
        assert request(port, "GET", f"/api/v1/me?token={raw}").status == 401
        assert request(port, "PROPFIND", f"/dav/{raw}/", Depth="0").status == 401
    lines = log_path.read_text()
    assert f'"GET /api/v1/me?token=cpat_{parts.lookup_id}[redacted] HTTP/1.1" 401' in lines
    assert f'"PROPFIND /dav/cpat_{parts.lookup_id}[redacted]/ HTTP/1.1" 401' in lines
    assert parts.secret not in lines
