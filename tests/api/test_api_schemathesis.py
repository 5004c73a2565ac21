"""Schemathesis, in-process over WSGI, against the whole OpenAPI document: every response conforms to it
(declared status, content type and body schema) and none is a 500.

Random uuids only ever meet 404, so a second run aims the node operations at real nodes of the demo tree, and
the token operations run again with a token that may manage its owner's tokens, aimed at a real one of them.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

pytestmark = pytest.mark.django_db


def wsgi_app_for_tests():
    """Django's WSGI application, minus closing the database connection at each request's edges.

    The test's transaction lives on that connection (as Django's test Client also knows); the bodies are
    consumed here so that streaming responses close inside the call.
    """
    application = get_wsgi_application()

    def app(environ, start_response):
        request_started.disconnect(close_old_connections)
        request_finished.disconnect(close_old_connections)
        try:
            result = application(environ, start_response)
            try:
                return [b"".join(result)]
            finally:
                result.close()
        finally:
            request_started.connect(close_old_connections)
            request_finished.connect(close_old_connections)

    return app


schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", wsgi_app_for_tests())
# SCHEMATHESIS_MAX_EXAMPLES=500 for a deeper run than the suite's.
schema.config.generation.update(max_examples=int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "25")))
# Valid requests only: a negative case (say, a malformed uuid) would be undone by aiming it at a real node.
positive = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", wsgi_app_for_tests())
positive.config.generation.update(max_examples=15, modes=[GenerationMode.POSITIVE])
# A schema-valid If-Match or If-None-Match may well not fit the file: 412 is then the right answer to a valid
# request, as 409 is to a valid name that is taken; so is 416 to a valid Range past the file's end.
for _tested in (schema, positive):
    _acceptance = _tested.config.checks.positive_data_acceptance
    _acceptance.expected_statuses = [*_acceptance.expected_statuses, "412", "416"]


def _excluded_checks(case) -> list[Any]:
    """A listing's cursor is opaque: a schema-valid one that the server never issued is rightly a 422. So is a
    schema-valid new token that the instance refuses for what no schema says: a duration past its maximum
    lifetime, a scope naming a node the owner cannot read, an end already past. The other checks (a declared
    status, the body's schema, no 500) still hold for them."""
    if case.query and "cursor" in case.query:
        return [positive_data_acceptance]
    if case.method.upper() == "POST" and case.path.endswith("/tokens"):
        return [positive_data_acceptance]
    return []


@pytest.fixture
def token(demo):
    return demo.token(demo.alice)[1]


@schema.parametrize()
@settings(deadline=None, suppress_health_check=list(HealthCheck))
def test_every_operation_conforms_to_the_document(case, token):
    case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, excluded_checks=_excluded_checks(case))


@pytest.fixture
def nodes(demo):
    return {
        "folder": str(demo.node("/common/projects/alpha").uuid),
        "file": str(demo.node("/common/projects/alpha/readme.txt").uuid),
    }


@positive.include(path_regex=r"\{node_id\}").parametrize()
@settings(deadline=None, suppress_health_check=list(HealthCheck))
@pytest.mark.parametrize("kind", ["folder", "file"])
def test_node_operations_on_real_nodes(case, token, nodes, kind):
    case.path_parameters["node_id"] = nodes[kind]
    case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, excluded_checks=_excluded_checks(case))


@pytest.fixture
def manager(demo):
    """A token of alice's that may manage her tokens, and another token of hers to aim at."""
    other, _raw = demo.token(demo.alice, label="another")
    return {"raw": demo.token(demo.alice, scopes=["tokens:self"], label="manager")[1], "other": other}


@schema.include(path_regex=r"/tokens").parametrize()
@settings(deadline=None, suppress_health_check=list(HealthCheck))
def test_token_operations_conform_for_a_token_that_manages_tokens(case, manager):
    case.call_and_validate(
        headers={"Authorization": f"Bearer {manager['raw']}"}, excluded_checks=_excluded_checks(case)
    )


@positive.include(path_regex=r"\{token_id\}").parametrize()
@settings(deadline=None, suppress_health_check=list(HealthCheck))
@pytest.mark.parametrize("named_by", ["uuid", "lookup_id"])
def test_token_operations_on_a_real_token(case, manager, named_by):
    case.path_parameters["token_id"] = str(getattr(manager["other"], named_by))
    case.call_and_validate(
        headers={"Authorization": f"Bearer {manager['raw']}"}, excluded_checks=_excluded_checks(case)
    )


# The leak intake takes no credentials: anyone who finds a token may report it.
@positive.exclude(path_regex=r"/tokens/revoke-leaked$").parametrize()
@settings(deadline=None, max_examples=10, suppress_health_check=list(HealthCheck))
def test_without_credentials_every_operation_is_a_documented_401(case, demo):
    response = case.call_and_validate()
    assert response.status_code == 401
