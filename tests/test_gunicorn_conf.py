"""``gunicorn.conf.py``, the settings ``make serve`` runs with."""

from __future__ import annotations

import gc
import runpy
from pathlib import Path

CONF = Path(__file__).resolve().parent.parent / "gunicorn.conf.py"


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
