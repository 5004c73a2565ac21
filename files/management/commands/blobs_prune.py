"""``manage.py blobs_prune``: remove the file contents that no file points at any more (``files.orphans``)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import CommandParser

from files import orphans
from lib.commands import OneLineCommand


class Command(OneLineCommand):
    help = (
        "Remove the blobs (file contents) that no file points at and that are older than --grace hours, and "
        "abort the object store's incomplete uploads begun before then: what a crash or an unreachable store "
        "left behind. Run it daily from cron."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--grace",
            type=float,
            default=orphans.GRACE / timedelta(hours=1),
            metavar="HOURS",
            help="leave what is younger than this: an upload may still be on its way to its file (default: 24)",
        )
        parser.add_argument("--dry-run", action="store_true", help="list, remove nothing")

    def handle(self, *args: Any, grace: float, dry_run: bool, verbosity: int, **options: Any) -> None:
        if grace < 0:
            raise ValueError("--grace cannot be negative.")
        collected = orphans.collect(grace=timedelta(hours=grace), dry_run=dry_run)
        if verbosity >= 2:  # -v 2: each one by name
            for name in [*collected.blobs, *collected.uploads, *collected.partial]:
                self.stdout.write(name)
        verb = "would be removed (dry run: nothing changed)" if dry_run else "removed"
        self.stdout.write(
            f"{len(collected.blobs)} unreferenced blob(s) and {len(collected.uploads)} incomplete upload(s) {verb}."
        )
        if collected.partial:
            self.stdout.write(f"{len(collected.partial)} abandoned partial upload(s) {verb}.")
