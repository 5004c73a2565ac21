"""Whatever a query string holds — every filter of every list page, repeated, unknown, out of range, not UTF-8 —
the answer is the page (a bad filter explained on it) or a clear 4xx, never a 5xx."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client, override_settings
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.support.api_helpers import API
from tests.support.query_fuzz import query_strings

#: Time zones on both sides of UTC: the first local midnight of year 1 east of it lies before what a datetime holds.
TIME_ZONES = st.sampled_from(["UTC", "Asia/Tokyo", "Europe/Paris", "Pacific/Kiritimati", "Pacific/Pago_Pago"])

fuzz = settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))


def _get(client: Client, path: str, query: str, *, htmx: bool) -> int:
    extra = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    return client.get(path, QUERY_STRING=query, **extra).status_code


@pytest.fixture
def tokens_and_events(demo, admin_client):
    """Something for the filters to match: a used token, an expired one, and their audit records."""
    demo.token(demo.alice, label="used")
    demo.token(demo.bob, label="short", expires_in=timedelta(seconds=1))
    admin_client.get("/people/alice/tokens/")
    return demo


@fuzz
@given(query=query_strings(["q"]), htmx=st.booleans())
def test_people_list_filters_never_give_5xx(admin_client, demo, query, htmx):
    assert _get(admin_client, "/people/", query, htmx=htmx) == 200


@fuzz
@given(
    query=query_strings(["owner", "status", "expiring_within", "unused_since"]),
    zone=TIME_ZONES,
    htmx=st.booleans(),
)
@example(query="unused_since=2026-02-30", zone="UTC", htmx=False)
@example(query="unused_since=0001-01-01", zone="Asia/Tokyo", htmx=False)
def test_token_inventory_filters_never_give_5xx(admin_client, tokens_and_events, query, zone, htmx):
    with override_settings(TIME_ZONE=zone):
        assert _get(admin_client, "/tokens/", query, htmx=htmx) == 200


@fuzz
@given(query=query_strings(["actor", "owner", "event", "since", "until"]), zone=TIME_ZONES, htmx=st.booleans())
@example(query="until=9999-12-31", zone="UTC", htmx=False)
@example(query="since=0001-01-01", zone="Asia/Tokyo", htmx=False)
def test_audit_filters_never_give_5xx(admin_client, tokens_and_events, query, zone, htmx):
    with override_settings(TIME_ZONE=zone):
        assert _get(admin_client, "/audit/", query, htmx=htmx) == 200


@fuzz
@given(query=query_strings(["token", "filters"]), htmx=st.booleans())
def test_bulk_delete_confirmation_parameters_never_give_5xx(admin_client, tokens_and_events, query, htmx):
    assert _get(admin_client, "/tokens/delete/", query, htmx=htmx) == 200


@fuzz
@given(
    path=st.sampled_from(["/people/alice/tokens/", "/people/alice/tokens/list/", "/me/tokens/", "/me/tokens/list/"]),
    query=query_strings([]),
    htmx=st.booleans(),
)
def test_token_tab_parameters_never_give_5xx(admin_client, tokens_and_events, path, query, htmx):
    # The list alone sends a browser without htmx to the whole tab.
    assert _get(admin_client, path, query, htmx=htmx) in (200, 302)


@fuzz
@given(query=query_strings(["parent"]), mine=st.booleans())
def test_scope_picker_parameters_never_give_5xx(admin_client, demo, query, mine):
    path = "/me/tokens/nodes/" if mine else "/people/alice/tokens/nodes/"
    assert _get(admin_client, path, query, htmx=True) in (200, 404)


@fuzz
@given(path=st.sampled_from(["/people/alice/locks/", "/me/locks/"]), query=query_strings([]), htmx=st.booleans())
def test_lock_tab_parameters_never_give_5xx(admin_client, demo, path, query, htmx):
    assert _get(admin_client, path, query, htmx=htmx) == 200


@fuzz
@given(query=query_strings(["path", "limit", "cursor"]))
def test_rest_node_lookup_parameters_never_give_5xx(alice, query):
    client = Client(**alice)
    assert _get(client, f"{API}/nodes", query, htmx=False) in (200, 404, 422)


@fuzz
@given(query=query_strings(["limit", "cursor", "owner", "status"]))
def test_rest_lists_answer_any_query_with_a_page_or_a_clear_422(demo, alice, query):
    client = Client(**alice)
    root = demo.node("/common").uuid
    for url in (f"{API}/workspaces", f"{API}/nodes/{root}/children"):
        # They page with limit and cursor (a bad one is a 422 naming it) and ignore what they do not take.
        assert _get(client, url, query, htmx=False) in {200, 422}
    assert _get(client, f"{API}/me", query, htmx=False) == 200
