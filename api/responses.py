"""The error bodies of the REST API and the table of statuses each endpoint declares in its OpenAPI document.

Every error is JSON ``{"detail": ...}``. ``responses()`` lists, for one endpoint, its success statuses plus the
errors every authenticated endpoint can give (401, 429) and the ones it names — so that the document declares
every status the endpoint can answer (schemathesis checks this).
"""

from __future__ import annotations

from typing import Any

from ninja import Schema


class Error(Schema):
    detail: str


class ValidationErrors(Schema):
    """A request that does not match the documented schema (ninja's validation)."""

    detail: list[dict[str, Any]]


ERRORS: dict[int, Any] = {
    400: Error,
    401: Error,
    403: Error,
    404: Error,
    409: Error,
    411: Error,
    412: Error,
    413: Error,
    416: Error,
    422: ValidationErrors,
    423: Error,
    429: Error,
}


def responses(ok: dict[int, Any], *errors: int) -> dict[int, Any]:
    """``ok`` plus 401 and 429 (any authenticated call) and the listed error statuses."""
    return {**ok, **{status: ERRORS[status] for status in (401, 429, *errors)}}
