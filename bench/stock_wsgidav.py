"""Stock WsgiDAV (its filesystem provider, basic auth, in-memory locks) as the benchmark's reference server.

Served by gunicorn with the same settings as cellsadmin: ``gunicorn -c gunicorn.conf.py bench.stock_wsgidav:app``.
"""

from __future__ import annotations

import os

from wsgidav.wsgidav_app import WsgiDAVApp

app = WsgiDAVApp(
    {
        "provider_mapping": {"/": os.environ["STOCK_DAV_ROOT"]},
        "simple_dc": {"user_mapping": {"*": {"bench": {"password": os.environ["STOCK_DAV_PASSWORD"]}}}},
        "http_authenticator": {"accept_basic": True, "accept_digest": False, "default_to_digest": False},
        "dir_browser": {"enable": False},
        "verbose": 0,
        "logging": {"enable": False},
    }
)
