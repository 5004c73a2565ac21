"""``manage.py dav_locks``: the WebDAV locks held now, and releasing the ones a client left behind
(``files.locks.held_locks``; the console shows a user's under People → the user → WebDAV locks)."""

from __future__ import annotations

import json
import time
from typing import Any

from django.core.management.base import CommandParser
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.timesince import timeuntil

from files.locks import held_locks
from files.models import DavLock
from lib.commands import OneLineCommand
from tokens import services
from tokens.models import PersonalAccessToken


class Command(OneLineCommand):
    help = "List the WebDAV locks held now, or release some (--release)."
    epilog = (
        "examples:\n"
        "  manage.py dav_locks                                  every lock held now\n"
        "  manage.py dav_locks --path /common/projects          those at or below a folder\n"
        "  manage.py dav_locks --release opaquelocktoken:…      release one (its token, from the list)\n"
        "  manage.py dav_locks --release --path /common/a.odt   release every lock at or below a path\n"
        "  manage.py dav_locks --prune                          delete the records of expired locks"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("tokens", nargs="*", metavar="TOKEN", help="lock tokens (with --release)")
        parser.add_argument("--path", metavar="PATH", help="only locks at or below /<workspace>/<path>")
        parser.add_argument("--release", action="store_true", help="release the locks named or selected")
        parser.add_argument("--prune", action="store_true", help="delete the records of expired locks")
        parser.add_argument("--dry-run", action="store_true", help="with --release or --prune: change nothing")
        parser.add_argument("--json", action="store_true", help="print JSON")

    def handle(self, *args: Any, tokens: list[str], path: str | None, dry_run: bool, **options: Any) -> None:
        if options["prune"]:
            expired = DavLock.objects.filter(expire__lt=time.time())
            count = expired.count() if dry_run else expired.delete()[0]
            self.stdout.write(f"{count} expired lock record(s) {'would be deleted' if dry_run else 'deleted'}.")
            return
        if tokens and not options["release"]:
            raise ValueError("lock tokens are only given with --release")
        if options["release"] and not tokens and path is None:
            raise ValueError("--release needs lock tokens or --path (nothing is released wholesale)")
        locks = held_locks.held(path=path)
        if tokens:
            locks = locks.filter(token__in=tokens)
            missing = sorted(set(tokens) - set(locks.values_list("token", flat=True)))
            if missing:
                raise ValueError(f"no such lock held: {', '.join(missing)}")
        rows = _describe(locks)
        if options["release"]:
            if not dry_run:
                services.locks_release(
                    DavLock.objects.filter(token__in=[row["token"] for row in rows]),
                    actor=None,
                    via=PersonalAccessToken.VIA_COMMAND_LINE,
                )
            verb = "would be released (dry run: nothing changed)" if dry_run else "released"
            self.stdout.write(f"{len(rows)} lock(s) {verb}.")
            for row in rows:
                self.stdout.write(f"  {row['path']}  ({row['owner']})")
            return
        if options["json"]:
            self.stdout.write(json.dumps(rows, indent=2))
            return
        if not rows:
            self.stdout.write("No locks.")
            return
        header = ("PATH", "OWNER", "SCOPE", "DEPTH", "EXPIRES", "TOKEN")
        table = [header] + [
            (row["path"], row["owner"], row["scope"], row["depth"], "in " + row["expires_in"], row["token"])
            for row in rows
        ]
        widths = [max(len(line[i]) for line in table) for i in range(len(header))]
        for line in table:
            self.stdout.write("  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip())


def _describe(locks: QuerySet[DavLock]) -> list[dict[str, Any]]:
    """Each lock as the list and --json show it (``files.locks.held_locks``), with how long it still holds."""
    now = timezone.now()
    return [
        {
            "path": lock.path,
            "owner": lock.holder,
            "scope": lock.scope,
            "depth": lock.depth,
            "expires_at": lock.expires_at.isoformat(),
            "expires_in": timeuntil(lock.expires_at, now),
            "token": lock.token,
        }
        for lock in held_locks.describe(locks)
    ]
