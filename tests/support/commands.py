from __future__ import annotations

from unittest import mock

from django.core.management import ManagementUtility
from django.db import connections


def run_command(*argv: str) -> int:
    """Run ``manage.py ARGV`` as from a shell (argument errors included); the exit code."""
    # run_from_argv closes every connection when it is done, which would end the test's transaction.
    with mock.patch.object(connections, "close_all"):
        try:
            ManagementUtility(["manage.py", *argv]).execute()
        except SystemExit as exit_:
            return int(exit_.code or 0)
    return 0
