"""Whatever arrives in the Authorization header, the API answers 401 (or 200 for a real token), never 500."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.api_helpers import API
from tokens import format as token_format

pytestmark = pytest.mark.django_db

# A WSGI server hands headers over as latin-1 decoded text (PEP 3333): any byte sequence, UTF-8 or not,
# arrives as a str of code points 0-255.
raw_bytes = st.binary(max_size=300).map(lambda data: data.decode("latin-1"))
schemes = st.sampled_from(["Bearer ", "bearer ", "BEARER  ", "Basic ", "Token ", "Bearer\t", "", " "])
truncated = st.integers(min_value=0, max_value=token_format.TOKEN_LENGTH - 1)

headers = st.one_of(
    st.just(""),
    st.just("Bearer " + "x" * 1_000_000),
    st.just("Bearer cpat_" + "A" * 1_000_000),
    raw_bytes,
    st.tuples(schemes, raw_bytes).map("".join),
    st.tuples(schemes, st.text(max_size=200)).map("".join),
    st.builds(lambda cut: "Bearer " + token_format.generate()[0][:cut], truncated),
    st.builds(lambda char: "Bearer " + token_format.generate()[0][:-1] + char, st.characters()),
)


@given(header=headers)
@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
def test_fuzzed_authorization_headers_never_give_500(header):
    cache.clear()  # each example starts with no failures counted (the throttle has its own tests)
    client = Client(raise_request_exception=False)
    for method, url in (("GET", "/me"), ("DELETE", "/nodes/00000000-0000-4000-8000-000000000000")):
        response = client.generic(method, API + url, HTTP_AUTHORIZATION=header)
        assert response.status_code == 401, (header[:80], response.content)
        assert response.json()["detail"]
        expected = 'Bearer realm="cellsadmin"' if not header else 'Bearer realm="cellsadmin", error="invalid_token"'
        assert response["WWW-Authenticate"] == expected
