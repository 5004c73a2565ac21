"""The base of the project's management commands: bad input ends in one line on stderr and a non-zero exit,
with nothing changed, never a traceback or argparse's usage block."""

from __future__ import annotations

import argparse
import sys
from typing import Any, NoReturn

from django.core.management.base import BaseCommand, CommandError, CommandParser


class _OneLineParser(CommandParser):
    """Usage errors on one stderr line, like every other error of these commands."""

    def error(self, message: str) -> NoReturn:
        if self.called_from_command_line:
            self.exit(2, f"{self.prog.split()[-1]}: error: {message} (see --help)\n")
        raise CommandError(f"Error: {message}")


class OneLineCommand(BaseCommand):
    """A command whose bad input (a usage error, or any ``ValueError`` its ``handle`` raises) ends in one line
    on stderr and exit status 1 (2 for usage), with nothing changed."""

    epilog: str | None = None

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        kwargs.setdefault("formatter_class", argparse.RawDescriptionHelpFormatter)
        kwargs.setdefault("epilog", self.epilog)
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        # BaseCommand builds its CommandParser itself; only the error method differs.
        parser.__class__ = _OneLineParser
        return parser

    def execute(self, *args: Any, **options: Any) -> str | None:
        try:
            return super().execute(*args, **options)
        except ValueError as error:
            self.fail(str(error))

    def fail(self, message: str) -> NoReturn:
        name = type(self).__module__.rsplit(".", 1)[-1]
        sys.stderr.write(f"{name}: error: {message}\n")
        sys.stderr.flush()
        raise SystemExit(1)
