"""WSGI entry point: console, REST API and WebDAV (``/dav/``) in one application."""

from __future__ import annotations

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cellsadmin.settings")

django_application = get_wsgi_application()

# WebDAV beside Django; imported once Django is set up, since the provider uses the models.
from files.dav.app import DavDispatcher, make_dav_app  # noqa: E402

application = DavDispatcher(django_application, make_dav_app())
