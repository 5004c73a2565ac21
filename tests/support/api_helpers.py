"""Small helpers shared by the tests of the REST API (tests/api/)."""

from __future__ import annotations

from typing import Any

from django.test import Client

API = "/api/v1"


def bearer(raw: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def call(client: Client, method: str, url: str, body: Any = None, headers: dict[str, str] | None = None, **extra: Any):
    """One API call: a dict body goes as JSON, bytes as the raw body of an upload."""
    headers = headers or {}
    if isinstance(body, bytes):
        return client.generic(method, API + url, body, content_type="application/octet-stream", **headers, **extra)
    if body is not None:
        return client.generic(method, API + url, _json(body), content_type="application/json", **headers, **extra)
    return client.generic(method, API + url, **headers, **extra)


def _json(body: Any) -> str:
    import json

    return json.dumps(body)
