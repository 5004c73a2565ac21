"""``manage.py user_token``: Cells' ``cells admin user token`` for this instance."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django.core.management.base import CommandParser
from django.utils.timesince import timeuntil

from files.models import Node
from tokens.durations import format_duration, parse_duration
from tokens.management.base import TokenCommand, describe
from tokens.models import PersonalAccessToken
from tokens.scopes import REST, WEBDAV, parse_scopes
from tokens.services import instance_url, token_create

DESCRIPTION = """\
Create a Personal Access Token for a user.

A Personal Access Token is used in place of the Bearer token on any REST call
(Authorization: Bearer <token>), or as the password, together with the user's
login, on basic-auth APIs such as WebDAV (/dav/).

Expiration: -e/--expire gives a Hard Limit (the token dies DURATION after its
creation); -a/--auto gives Auto Refresh (the token dies after DURATION without
use, each use pushes its end forward); both together give an Auto Refresh token
that dies at the latest after the -e DURATION.

DURATION is a number and a unit (s, m, h, d, w), or a compound such as 1d12h.
For -a a bare number means seconds.

Without a scope the token has the user's full access, over every protocol,
from anywhere. See TOKEN SCOPE below.
"""

EPILOG = """\
TOKEN SCOPE

  Scopes restrict what the token can do. Each is KIND:VALUE; repeat -s or
  separate scopes with commas. Scopes of one kind add up, scopes of different
  kinds must all hold, and a kind left out does not restrict.

  node:<NODE_UUID>:r    read one file or folder and what is inside it
                        (stat, list, download)
  node:<NODE_UUID>:w    write inside it (create, overwrite, rename, move,
                        delete)
  node:<NODE_UUID>:rw   both
  node:*:r              read everything the user can reach, now or later:
                        a read-only token (node:*:w, node:*:rw likewise)
  protocol:rest         authenticate only on the REST API (/api/v1)
  protocol:webdav       ... only on WebDAV (/dav/)
  protocol:s3           ... only on the S3 gateway
  ip:192.0.2.0/24       authenticate only from these client addresses
                        (an IPv4 or IPv6 address or network)
  tokens:self           manage the user's own tokens over the REST API
                        (/api/v1/tokens: list, create, rotate, delete)
  tokens:all            manage everyone's tokens; only for an
                        administrator's token

  A node scope must name a node the user can read (and write, for w); node
  scopes are intersected with the user's rights at every request. Without a
  tokens: scope a token can read, rotate and delete only itself. A token
  made through another token over the REST API can never reach more than
  the token that made it.

examples:
  manage.py user_token -u alice -e 20d
  manage.py user_token -u alice -a 3600 -q
  manage.py user_token -u alice -a 1h -e 30d -s node:5c3e…:rw -l "backup script"
  manage.py user_token -u alice -e 30d -s node:*:r -s protocol:webdav -s ip:192.0.2.0/24
  manage.py user_token -u alice -e 90d -s tokens:self -s protocol:rest -l "CI job"
"""


class Command(TokenCommand):
    help = DESCRIPTION
    epilog = EPILOG

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("-u", "--user", required=True, metavar="LOGIN", help="login of the token's owner")
        parser.add_argument("-e", "--expire", metavar="DURATION", help="Hard Limit: expire DURATION after creation")
        parser.add_argument("-a", "--auto", metavar="DURATION", help="Auto Refresh: expire after DURATION unused")
        parser.add_argument(
            "-s",
            "--scope",
            action="append",
            default=[],
            metavar="SCOPE",
            help="node:<NODE_UUID>|*:r|w|rw, protocol:rest|webdav|s3, ip:<address or CIDR>, tokens:self|all "
            "(repeatable; see TOKEN SCOPE)",
        )
        parser.add_argument(
            "-l", "--label", help='a label to recognise the token by (default: "Command line token <its public id>")'
        )
        output = parser.add_mutually_exclusive_group()
        output.add_argument("-q", "--quiet", action="store_true", help="print only the token")
        output.add_argument("--json", action="store_true", help="print the token and its details as JSON")

    def handle(self, *, user: str, expire: str | None, auto: str | None, scope: list[str], **options: Any) -> None:
        if expire is None and auto is None:
            self.fail("give -e DURATION (Hard Limit), -a DURATION (Auto Refresh), or both")
        owner = self.user_named(user)
        if not owner.is_active:
            self.fail(f"user {owner.login!r} is inactive")
        expires_in = parse_duration(expire) if expire is not None else None
        refresh_window = parse_duration(auto, bare_seconds=True) if auto is not None else None
        scopes = parse_scopes(scope)
        given: str | None = options.get("label")
        label: str | Callable[[str], str] = given if given is not None else _default_label
        token, raw = token_create(
            owner=owner,
            label=label,
            expires_in=expires_in,
            refresh_window=refresh_window,
            scopes=scopes,
            via=PersonalAccessToken.VIA_COMMAND_LINE,
        )
        if options["quiet"]:
            self.stdout.write(raw)
        elif options["json"]:
            self.stdout.write(json.dumps({"token": raw, **describe(token)}, indent=2))
        else:
            self.stdout.write(human_description(token, raw))


def _default_label(public_id: str) -> str:
    """Unique to the token: it says where the token came from and names its public id."""
    return f"Command line token {public_id}"


def _scope_lines(token: PersonalAccessToken) -> list[str]:
    """Each scope, a node scope with its node's path."""
    scopes = token.scope_set
    nodes = Node.objects.select_related("workspace").in_bulk([s.node for s in scopes.nodes if s.node is not None])
    lines = []
    for scope in scopes.nodes:
        if scope.node is None:
            lines.append(f"{scope} (every file {token.owner.login} can reach)")
        else:
            node = nodes.get(scope.node)
            lines.append(f"{scope} ({node.public_path if node is not None else 'deleted'})")
    return lines + [text for text in scopes.strings if not text.startswith("node:")]


def human_description(token: PersonalAccessToken, raw: str) -> str:
    base = instance_url()
    owner = token.owner
    model = token.get_expiration_model_display()
    if token.refresh_window is not None:
        model += f" (refreshed on use, window {format_duration(token.refresh_window)})"
    expires = f"{token.expires_at:%Y-%m-%d %H:%M:%S %Z} (in {timeuntil(token.expires_at)})"
    if token.absolute_end is not None:
        expires += f", at the latest {token.absolute_end:%Y-%m-%d %H:%M:%S %Z}"
    scopes = _scope_lines(token) or ["none: the user's full access"]
    lines = [
        raw,
        "",
        f"Personal Access Token for {owner.login}" + (f" ({owner.display_name})" if owner.display_name else ""),
        f"  Label:    {token.label}",
        f"  Model:    {model}",
        f"  Expires:  {expires}",
        f"  Scopes:   {scopes[0]}",
        *[f"            {line}" for line in scopes[1:]],
        "",
        "This is the only time the token is shown: store it now.",
    ]
    # Only the uses its protocol scopes allow.
    scope_set = token.scope_set
    if scope_set.allows_protocol(REST):
        lines += [
            "",
            "Use it in place of the Bearer token on any REST call:",
            f'  curl -H "Authorization: Bearer {raw}" {base}/api/v1/me',
        ]
    if scope_set.allows_protocol(WEBDAV):
        lines += [
            "",
            f"Use it as the password, with the login {owner.login!r}, on basic-auth APIs such as WebDAV:",
            f"  {base}/dav/",
        ]
    return "\n".join(lines)
