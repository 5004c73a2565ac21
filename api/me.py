"""``GET /api/v1/me``: who the request acts for, and through which token."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from django.http import HttpRequest
from ninja import Router, Schema

from api.auth import principal_of
from api.responses import responses

router = Router(tags=["me"])


class TokenOut(Schema):
    uuid: UUID
    label: str
    expires_at: datetime
    scopes: list[str]


class MeOut(Schema):
    uuid: UUID
    login: str
    display_name: str
    email: str
    is_admin: bool
    #: The PAT the request came with; null for the console's session.
    token: TokenOut | None


@router.get("/me", response=responses({200: MeOut}), summary="The current user (and token)")
def me(request: HttpRequest) -> MeOut:
    principal = principal_of(request)
    user, token = principal.user, principal.token
    return MeOut(
        uuid=user.uuid,
        login=user.login,
        display_name=user.display_name,
        email=user.email,
        is_admin=user.is_admin,
        token=None
        if token is None
        else TokenOut(uuid=token.uuid, label=token.label, expires_at=token.expires_at, scopes=list(token.scopes)),
    )
