"""Every error of the REST API is JSON ``{"detail": …}``, whoever raises it: an over-size JSON body, an
unexpected exception, Django's own refusals (a bad Host, a suspicious request) and denials."""

from __future__ import annotations

import json
import logging

from django.conf import settings
from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.test import Client

from tests.support.api_helpers import API


def _raising(error: Exception):
    def fail(*args: object, **kwargs: object) -> None:
        raise error

    return fail


def test_a_json_body_over_the_memory_limit_is_413_json(client, alice, demo):
    root = demo.common.root.uuid
    body = json.dumps({"name": "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1), "type": "folder"})
    response = client.post(f"{API}/nodes/{root}/children", body, content_type="application/json", **alice)
    assert response.status_code == 413
    assert "larger than" in response.json()["detail"]


def test_an_unexpected_exception_is_500_json_without_its_traceback(alice, monkeypatch):
    monkeypatch.setattr("api.me.principal_of", _raising(RuntimeError("secret internals")))
    response = Client(raise_request_exception=False).get(f"{API}/me", **alice)
    assert response.status_code == 500
    assert response.json() == {"detail": "Internal server error."}


def test_an_unexpected_exception_still_logs_its_traceback(alice, monkeypatch, caplog):
    monkeypatch.setattr("api.me.principal_of", _raising(RuntimeError("secret internals")))
    Client(raise_request_exception=False).get(f"{API}/me", **alice)
    logged = [record for record in caplog.records if record.levelno >= logging.ERROR and record.exc_info]
    assert [str(record.exc_info[1]) for record in logged] == ["secret internals"]


def test_a_suspicious_request_inside_an_endpoint_is_400_json(alice, monkeypatch):
    monkeypatch.setattr("api.me.principal_of", _raising(SuspiciousOperation("odd")))
    response = Client(raise_request_exception=False).get(f"{API}/me", **alice)
    assert response.status_code == 400
    assert response.json() == {"detail": "Bad request."}


def test_a_denial_inside_an_endpoint_is_403_json(alice, monkeypatch):
    monkeypatch.setattr("api.me.principal_of", _raising(PermissionDenied()))
    response = Client(raise_request_exception=False).get(f"{API}/me", **alice)
    assert response.status_code == 403
    assert response.json() == {"detail": "Permission denied."}


def test_a_host_not_allowed_is_400_json_under_the_api(db):
    response = Client().get(f"{API}/me", HTTP_HOST="evil.example")
    assert response.status_code == 400
    assert response.json() == {"detail": "Bad request."}


def test_a_host_not_allowed_is_still_an_html_page_in_the_console(db):
    response = Client().get("/login/", HTTP_HOST="evil.example")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")


def test_an_error_outside_any_endpoint_is_500_json_under_the_api(db, monkeypatch):
    monkeypatch.setattr("api.api.JsonMethodNotAllowed.__call__", _raising(RuntimeError("boom")))
    response = Client(raise_request_exception=False).get(f"{API}/me")
    assert response.status_code == 500
    assert response.json() == {"detail": "Internal server error."}
