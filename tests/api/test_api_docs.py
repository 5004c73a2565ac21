"""The OpenAPI document and the interactive docs, served without any CDN."""

from __future__ import annotations

import re

from django.contrib.staticfiles import finders

from tests.support.api_helpers import API

ENDPOINTS = {
    "/api/v1/me": {"get"},
    "/api/v1/workspaces": {"get"},
    "/api/v1/nodes": {"get"},
    "/api/v1/nodes/{node_id}": {"get", "patch", "delete"},
    "/api/v1/nodes/{node_id}/children": {"get", "post"},
    "/api/v1/nodes/{node_id}/children/{name}": {"put"},
    "/api/v1/nodes/{node_id}/content": {"get", "put"},
    "/api/v1/tokens/revoke-leaked": {"post"},
    "/api/v1/tokens/self": {"get", "delete"},
    "/api/v1/tokens/self/rotate": {"post"},
    "/api/v1/tokens": {"get", "post"},
    "/api/v1/tokens/{token_id}": {"get", "delete"},
    "/api/v1/tokens/{token_id}/rotate": {"post"},
}
#: The one operation that takes no credentials: anyone may report a leaked token.
UNAUTHENTICATED = ("/api/v1/tokens/revoke-leaked", "post")


def test_openapi_document_lists_every_endpoint_with_its_errors(client):
    document = client.get(f"{API}/openapi.json").json()
    assert {path: set(ops) for path, ops in document["paths"].items()} == ENDPOINTS
    assert document["components"]["securitySchemes"]["BearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "PAT",
    }
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if (path, method) == UNAUTHENTICATED:
                assert "security" not in operation and "401" not in operation["responses"]
                assert {"202", "422", "429"} <= set(operation["responses"])
                continue
            assert "401" in operation["responses"]
            assert operation["security"]


def test_docs_page_uses_only_local_assets(client):
    response = client.get(f"{API}/docs")
    assert response.status_code == 200
    html = response.content.decode()
    assert re.findall(r"(?:https?:)?//[\w.-]+\.\w+", html) == []
    assets = re.findall(r'(?:src|href)="/static/([^"]+)"', html)
    assert "ninja/swagger-ui-bundle.js" in assets
    for asset in assets:
        assert finders.find(asset), asset
    assert '"validatorUrl": null' in html
