"""WSGI entry point: console, REST API, WebDAV (``/dav/``) and the S3 gateway (signed requests) in one application."""

from __future__ import annotations

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cellsadmin.settings")

django_application = get_wsgi_application()

# No server starts without the secrets a database server needs from the environment (cellsadmin.checks).
from cellsadmin.checks import refuse_to_start  # noqa: E402

refuse_to_start()

# WebDAV beside Django; imported once Django is set up, since the provider uses the models.
from dav.app import DavDispatcher, make_dav_app  # noqa: E402
from lib.client_address import ClientAddress  # noqa: E402
from s3.app import Gateway, S3Dispatcher  # noqa: E402

# The client's address is decided once, before anything reads REMOTE_ADDR (lib.client_address).
dispatcher = DavDispatcher(django_application, make_dav_app())
application = ClientAddress(S3Dispatcher(dispatcher, Gateway()))
