"""``manage.py token_list``: the tokens of one user or of everyone, by status, as a table or JSON.

Rows are streamed from the database in chunks and written as they come, in columns of fixed widths, so that a
listing of any length starts at once and holds only a chunk in memory."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterable
from typing import Any

from django.core.management.base import CommandParser
from django.utils import timezone
from django.utils.timesince import timesince, timeuntil

from tokens.management.base import TokenCommand, count, describe
from tokens.models import STATUSES, PersonalAccessToken
from tokens.scopes import TokenScopes

#: Rows read from the database at a time.
CHUNK = 500

#: (header, width) of each column; a longer value is cut with "…". The last column is never cut.
COLUMNS = (
    ("ID", 12),
    ("OWNER", 16),
    ("LABEL", 30),
    ("MODEL", 12),
    ("STATUS", 25),
    ("EXPIRES", 22),
    ("LAST USED", 28),
    ("SCOPES", 0),
)

#: What a table row reads, and what a JSON item reads (``describe``).
TABLE_FIELDS = (
    "lookup_id",
    "owner__login",
    "label",
    "expiration_model",
    "expires_at",
    "refresh_window",
    "absolute_end",
    "scopes",
    "created_at",
    "last_used_at",
    "last_used_protocol",
    "expiring_from",
    "revoked_at",
    "revoked_how",
)
JSON_FIELDS = (
    *TABLE_FIELDS,
    "created_by__login",
    "created_via",
    "last_used_ip",
)


def _cell(text: str, width: int) -> str:
    if not width:
        return text
    return (text if len(text) <= width else text[: width - 1] + "…").ljust(width)


def table_line(cells: Iterable[str]) -> str:
    return "  ".join(_cell(text, width) for text, (_header, width) in zip(cells, COLUMNS, strict=True)).rstrip()


def scopes_cell(scopes: TokenScopes) -> str:
    """The SCOPES column: how many nodes (``all`` for the owner's whole reach, ``node:*:r`` as it is), then every
    scope of the other kinds as it is written."""
    named = sum(scope.node is not None for scope in scopes.nodes)
    nodes = [str(scope) for scope in scopes.nodes if scope.node is None]
    if named:
        nodes.append(f"{named} node{'s' if named != 1 else ''}")
    others = [text for text in scopes.strings if not text.startswith("node:")]
    return " ".join([*(nodes or ["all"]), *others])


class Command(TokenCommand):
    help = (
        "List Personal Access Tokens (never their secrets), newest first. SCOPES shows how many nodes a token is "
        "narrowed to (all: the owner's whole reach; node:*:r: read only), then its other scopes as written: "
        "protocol:rest|webdav|s3, ip:<address or network>, tokens:self|all."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("-u", "--user", metavar="LOGIN", help="only this user's tokens")
        parser.add_argument("--status", choices=sorted(STATUSES), help="only tokens with this status")
        parser.add_argument("--limit", type=count, metavar="N", help="at most N tokens (the newest)")
        parser.add_argument("--json", action="store_true", help="print one JSON array")

    def handle(self, *args: Any, user: str | None, status: str | None, limit: int | None, **options: Any) -> None:
        now = timezone.now()
        # The columns a row shows and nothing more (no digest, no recent uses, no password hashes): each row of
        # a long listing is read, shown and dropped, and the table needs no creator.
        tokens = PersonalAccessToken.objects.order_by("-created_at", "-uuid")
        tokens = (
            tokens.select_related("owner", "created_by").only(*JSON_FIELDS)
            if options["json"]
            else tokens.select_related("owner").only(*TABLE_FIELDS)
        )
        if user is not None:
            tokens = tokens.filter(owner=self.user_named(user))
        if status is not None:
            tokens = tokens.with_status(status, now=now)
        if limit is not None:
            tokens = tokens[:limit]
        rows = tokens.iterator(chunk_size=CHUNK)
        if options["json"]:
            self._write_json(describe(token) for token in rows)
            return
        listed = 0
        for token in rows:
            if not listed:
                self.stdout.write(table_line(header for header, _width in COLUMNS))
            listed += 1
            usage = token.usage_at(now)
            status_text = token.status_at(now) + (f" ({token.revoked_how})" if token.revoked_how else "")
            status_text += f", {usage}" if usage else ""
            if token.revoked_at is not None:
                expires = f"revoked {timesince(token.revoked_at, now)} ago"
            elif token.expires_at > now:
                expires = f"in {timeuntil(token.expires_at, now)}"
            else:
                expires = f"{timesince(token.expires_at, now)} ago"
            used = (
                f"{timesince(token.last_used_at, now)} ago ({token.last_used_protocol})"
                if token.last_used_at
                else "never"
            )
            scopes = scopes_cell(token.scope_set)
            self.stdout.write(
                table_line(
                    (
                        token.lookup_id,
                        token.owner.login,
                        token.label,
                        token.get_expiration_model_display(),
                        status_text,
                        expires,
                        used,
                        scopes,
                    )
                )
            )
        if not listed:
            self.stdout.write("No tokens.")

    def _write_json(self, items: Iterable[dict[str, Any]]) -> None:
        """One JSON array, written an element at a time."""
        opened = False
        for item in items:
            self.stdout.write(
                ("[\n" if not opened else ",\n") + textwrap.indent(json.dumps(item, indent=2), "  "), ending=""
            )
            opened = True
        self.stdout.write("\n]" if opened else "[]")
