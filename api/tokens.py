"""Tokens over the REST API: the calling token (``/tokens/self``), the tokens a principal may manage
(``/tokens``, ``/tokens/{id}``), and the intake of leaked tokens (``/tokens/revoke-leaked``).

Who may manage which token is ``tokens.auth.Principal.manages``: a session its user's tokens (an administrator
anyone's); a token itself, and with ``tokens:self`` its owner's, with ``tokens:all`` everyone's. What a token
makes or rotates never exceeds it (``tokens.escalation``, applied by the services). The workflows are those of
the console and the command line (``tokens.services``): the same policy, audit trail ("rest") and e-mails.

Statuses: a token or an owner the principal may not manage is 404, as one that does not exist; a token that may
manage only itself asking for more is 403, and so is a token asking for a stronger one than itself; bad input
is 422 naming the field.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from ninja import Field, Path, Query, Router, Schema, Status
from ninja.errors import HttpError, ValidationError

from api.auth import principal_of
from api.paging import Keyset, PageQuery, link_header_doc, moment, page
from api.responses import Error, ValidationErrors, responses
from people.models import User
from tokens import throttle
from tokens.auth import Principal
from tokens.durations import DurationError, format_duration, parse_duration
from tokens.models import PersonalAccessToken, TokenError
from tokens.scopes import ScopeError, parse_scopes
from tokens.services import MAX_LEAK_REPORT, token_create, token_delete, token_rotate, tokens_revoke_leaked

router = Router(tags=["tokens"])

#: Newest first, as the token lists of the console and the command line.
TOKEN_ORDER = Keyset(fields=("created_at", "uuid"), parsers=(moment, uuid.UUID), descending=True)
#: How a request names a token: its uuid or its public id.
ID_PATTERN = r"^([0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}|[0-9A-Za-z]{12})$"
MODELS = {"hard_limit": PersonalAccessToken.HARD_LIMIT, "auto_refresh": PersonalAccessToken.AUTO_REFRESH}
MODEL_NAMES = {value: key for key, value in MODELS.items()}
TokenId = Annotated[str, Path(pattern=ID_PATTERN, description="The token's uuid or its public id.")]


class TokenDetails(Schema):
    """A token as lists show it: never its secret."""

    uuid: uuid.UUID
    #: The 12 characters after ``cpat_``: names the token in logs and lists.
    public_id: str
    owner: str
    label: str
    model: Literal["hard_limit", "auto_refresh"]
    #: An Auto Refresh token's window in the duration syntax (``1h``); null for a Hard Limit.
    window: str | None
    expires_at: datetime
    #: The end no use pushes back, for an Auto Refresh token; null for a Hard Limit (its end is ``expires_at``).
    absolute_end: datetime | None
    scopes: list[str]
    #: ``Active``, ``Expiring soon``, ``Expired`` or ``Revoked``.
    status: str
    #: When it was deleted while it still worked (it stays listed until the retention removes it); null otherwise.
    revoked_at: datetime | None = None
    created_at: datetime
    #: Who created it (a login), null from the command line.
    created_by: str | None
    #: ``console``, ``cli`` or ``rest``.
    created_via: str
    last_used_at: datetime | None


class TokenWithSecret(TokenDetails):
    """A token just created or rotated, with its secret: the only time any response holds it."""

    token: str
    #: What the instance's policy changed on a rotation (a lowered maximum lifetime); null when nothing did.
    notice: str | None = None


class TokenIn(Schema):
    """A new token. ``duration`` is the life of a Hard Limit token, the window of an Auto Refresh one."""

    owner: str | None = Field(
        None, min_length=1, max_length=150, description="Whose token (a login); yours when left out."
    )
    label: str = Field(min_length=1, max_length=200, description="One line that says what uses the token.")
    model: Literal["hard_limit", "auto_refresh"]
    duration: str = Field(
        max_length=100,
        pattern=r"^([0-9]{1,12}[wdhms])+$",
        description="A number and a unit (s, m, h, d, w), or a compound such as 1d12h.",
        examples=["20d"],
    )
    absolute_end: datetime | None = Field(
        None, description="auto_refresh only: the end no use pushes back (RFC 3339). Default: the longest allowed."
    )
    scopes: list[str] = Field(
        default_factory=list,
        max_length=200,
        description="node:<NODE_UUID>|*:r|w|rw, protocol:rest|webdav|s3, ip:<address or CIDR>, tokens:self|all.",
    )


class TokenListQuery(PageQuery):
    owner: str | None = Field(None, min_length=1, max_length=150, description="Only this login's tokens.")
    status: Literal["active", "expiring", "expired", "revoked", "never-used", "idle"] | None = Field(
        None, description="Only tokens with this status."
    )


class LeakReport(Schema):
    tokens: list[str] = Field(max_length=MAX_LEAK_REPORT, description="Strings found exposed, such as cpat_….")


class LeakReceived(Schema):
    #: How many strings the report held (never how many were live tokens).
    received: int


def token_out(token: PersonalAccessToken) -> dict[str, Any]:
    window = token.refresh_window
    return {
        "uuid": token.uuid,
        "public_id": token.lookup_id,
        "owner": token.owner.login,
        "label": token.label,
        "model": MODEL_NAMES[token.expiration_model],
        "window": format_duration(window) if window is not None else None,
        "expires_at": token.expires_at,
        "absolute_end": token.absolute_end,
        "scopes": list(token.scopes),
        "status": token.status,
        "revoked_at": token.revoked_at,
        "created_at": token.created_at,
        "created_by": token.created_by.login if token.created_by else None,
        "created_via": token.created_via,
        "last_used_at": token.last_used_at,
    }


def _invalid(field: str, message: str) -> ValidationError:
    """A 422 for one field of the body, shaped as ninja's own."""
    location = ["body", "payload", field] if field else ["body", "payload"]
    return ValidationError([{"type": "value_error", "loc": location, "msg": message}])


def _refused(error: TokenError) -> Exception:
    if error.escalation:
        return HttpError(403, str(error))
    return _invalid(error.field, str(error))


def _ip(request: HttpRequest) -> str | None:
    return request.META.get("REMOTE_ADDR")


def _calling_token(principal: Principal) -> PersonalAccessToken:
    if principal.token is None:
        raise HttpError(404, "This request came with the console's session, not with a token.")
    return principal.token


def _managed(principal: Principal, token_id: str) -> PersonalAccessToken:
    """The token ``token_id`` names (uuid or public id), if the principal may manage it; else 404."""
    try:
        condition = Q(pk=uuid.UUID(token_id))
    except ValueError:
        condition = Q(lookup_id=token_id)
    token = PersonalAccessToken.objects.select_related("owner", "created_by").filter(condition).first()
    if token is None or not principal.manages_token(token):
        raise HttpError(404, "No such token.")
    return token


def _owner_named(principal: Principal, login: str) -> User:
    owner = User.objects.filter(login__iexact=login.replace("\x00", "")).first()
    if owner is None or not principal.manages(owner):
        raise HttpError(404, f"No user {login!r} whose tokens you may manage.")
    return owner


def _may_manage_others(principal: Principal) -> None:
    if principal.token is not None and not principal.token.scope_set.manages:
        raise HttpError(
            403,
            "This token may manage only itself (/api/v1/tokens/self); give it a tokens:self scope to manage its "
            "owner's tokens.",
        )


def _secret_out(token: PersonalAccessToken, raw: str, notice: str = "") -> TokenWithSecret:
    return TokenWithSecret(**token_out(token), token=raw, notice=notice or None)


# The fixed paths before /tokens/{token_id}, which would take "self" and "revoke-leaked" for ids.


@router.post(
    "/tokens/revoke-leaked",
    auth=None,
    response={202: LeakReceived, 400: Error, 413: Error, 422: ValidationErrors, 429: Error},
    summary="Report leaked tokens: live ones are deleted (no authentication; always 202)",
)
def revoke_leaked(request: HttpRequest, report: LeakReport) -> Status[LeakReceived]:
    """For secret scanners and anyone who finds a token exposed. Each live token among the strings is deleted,
    recorded as reported leaked with the reporter's address, and its owner is e-mailed. The answer is the same
    whatever the strings are, so it tells nobody which were live tokens. Rate-limited per address."""
    throttle.count_leak_report(_ip(request))
    tokens_revoke_leaked(raws=report.tokens, ip=_ip(request))
    return Status(202, LeakReceived(received=len(report.tokens)))


@router.get("/tokens/self", response=responses({200: TokenDetails}, 404), summary="The token this request came with")
def get_self(request: HttpRequest) -> dict[str, Any]:
    return token_out(_calling_token(principal_of(request)))


@router.post(
    "/tokens/self/rotate",
    response=responses({201: TokenWithSecret}, 404, 409, 422),
    summary="Rotate the calling token: a new secret, the same end, window and scopes; the old one stops now",
)
def rotate_self(request: HttpRequest) -> Status[TokenWithSecret]:
    principal = principal_of(request)
    token = _calling_token(principal)
    return _rotate(request, principal, token)


@router.delete("/tokens/self", response=responses({204: None}, 404), summary="Delete the calling token")
def delete_self(request: HttpRequest) -> Status[None]:
    principal = principal_of(request)
    token = _calling_token(principal)
    token_delete(token=token, actor=principal.user, via=PersonalAccessToken.VIA_REST, ip=_ip(request))
    return Status(204, None)


@router.get(
    "/tokens",
    response=responses({200: list[TokenDetails]}, 403, 404, 422),
    summary="Tokens you may manage, newest first (never their secrets)",
    openapi_extra=link_header_doc(),
)
def list_tokens(request: HttpRequest, response: HttpResponse, query: Query[TokenListQuery]) -> list[dict[str, Any]]:
    principal = principal_of(request)
    _may_manage_others(principal)
    tokens = PersonalAccessToken.objects.select_related("owner", "created_by").defer("recent_uses", "reminders_sent")
    if query.owner is not None:
        tokens = tokens.filter(owner=_owner_named(principal, query.owner))
    elif not principal.manages_everyone:
        tokens = tokens.filter(owner=principal.user)
    if query.status is not None:
        tokens = tokens.with_status(query.status)
    return [token_out(token) for token in page(request, response, tokens, TOKEN_ORDER, query)]


@router.post(
    "/tokens",
    response=responses({201: TokenWithSecret}, 400, 403, 404, 422),
    summary="Create a token (the secret is in this response only)",
)
def create_token(request: HttpRequest, payload: TokenIn) -> Status[TokenWithSecret]:
    principal = principal_of(request)
    _may_manage_others(principal)
    owner = principal.user if payload.owner is None else _owner_named(principal, payload.owner)
    try:
        length = parse_duration(payload.duration)
    except DurationError as error:
        raise _invalid("duration", str(error)) from None
    try:
        scopes = parse_scopes(payload.scopes)
    except ScopeError as error:
        raise _invalid("scopes", str(error)) from None
    auto = MODELS[payload.model] == PersonalAccessToken.AUTO_REFRESH
    ends_at = payload.absolute_end
    if ends_at is not None and not auto:
        raise _invalid(
            "absolute_end",
            "Only an auto_refresh token has an absolute end; a hard_limit token ends after its duration.",
        )
    if ends_at is not None and ends_at.tzinfo is None:
        ends_at = ends_at.replace(tzinfo=UTC)
    try:
        token, raw = token_create(
            owner=owner,
            label=payload.label,
            expires_in=None if auto else length,
            refresh_window=length if auto else None,
            ends_at=ends_at,
            scopes=scopes,
            actor=principal.user,
            via=PersonalAccessToken.VIA_REST,
            ip=_ip(request),
            through=principal.token,
        )
    except TokenError as error:
        raise _refused(error) from None
    except OverflowError:
        raise _invalid("absolute_end", "The end is beyond any date this instance can keep.") from None
    return Status(201, _secret_out(token, raw))


@router.get(
    "/tokens/{token_id}",
    response=responses({200: TokenDetails}, 404, 422),
    summary="A token you may manage, by uuid or public id",
)
def get_token(request: HttpRequest, token_id: TokenId) -> dict[str, Any]:
    return token_out(_managed(principal_of(request), token_id))


@router.delete("/tokens/{token_id}", response=responses({204: None}, 404, 422), summary="Delete a token you may manage")
def delete_token(request: HttpRequest, token_id: TokenId) -> Status[None]:
    principal = principal_of(request)
    token = _managed(principal, token_id)
    reason = f"through token {principal.token.lookup_id}" if principal.token and principal.token != token else ""
    token_delete(token=token, actor=principal.user, via=PersonalAccessToken.VIA_REST, reason=reason, ip=_ip(request))
    return Status(204, None)


@router.post(
    "/tokens/{token_id}/rotate",
    response=responses({201: TokenWithSecret}, 403, 404, 409, 422),
    summary="Rotate a token you may manage: a new secret; the old one stops now",
)
def rotate_token(request: HttpRequest, token_id: TokenId) -> Status[TokenWithSecret]:
    principal = principal_of(request)
    return _rotate(request, principal, _managed(principal, token_id))


def _rotate(request: HttpRequest, principal: Principal, token: PersonalAccessToken) -> Status[TokenWithSecret]:
    """A session rotates as a person does (the same duration again from now); a token keeps the end, window and
    cap, and may not rotate a token stronger than itself."""
    if token.is_expired():
        raise HttpError(409, "A token that has expired or was deleted cannot be rotated; create a new one.")
    try:
        new, raw, notice = token_rotate(
            token=token,
            actor=principal.user,
            via=PersonalAccessToken.VIA_REST,
            ip=_ip(request),
            through=principal.token,
        )
    except TokenError as error:
        raise _refused(error) from None
    return Status(201, _secret_out(new, raw, notice))
