"""The data sets of the scale section of ``make bench`` (bench/run.py): S1 and S3, written with bulk_create.

Run in a process of its own per data set (``python bench/scale.py S3``), with the ``DATA_DIR`` of that data
set in the environment: each data set is its own SQLite database, and Django's settings are read once per
process. It prints one line of JSON: what the measurements need to know (the big folder's uuid, a raw token
of alice's).

Rows are written in batches straight from generators, with one precomputed password hash for every generated
user: hashing 10,000 passwords with argon2 would take longer than writing everything else.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from itertools import islice
from pathlib import Path
from typing import Any, TypeVar

ROOT = Path(__file__).resolve().parent.parent
BATCH = 5000
#: The folder that the picker, the REST listing and PROPFIND open: /common/<BIG_FOLDER>.
BIG_FOLDER = "scale"

T = TypeVar("T")


@dataclass(frozen=True)
class DataSet:
    users: int
    tokens: int
    alice_tokens: int
    audit_events: int
    files: int


DATA_SETS = {
    "S1": DataSet(users=100, tokens=1_000, alice_tokens=10, audit_events=10_000, files=100),
    "S3": DataSet(
        users=10_000,
        tokens=100_000,
        alice_tokens=1_000,
        audit_events=int(os.environ.get("BENCH_SCALE_S3_AUDIT", "1000000")),
        files=10_000,
    ),
}


def batches(rows: Iterable[T], size: int = BATCH) -> Iterator[list[T]]:
    iterator = iter(rows)
    while batch := list(islice(iterator, size)):
        yield batch


def generate(name: str) -> dict[str, Any]:
    """Migrate, seed the demo, and add the data set ``name``: {"folder": uuid, "token": alice's raw token}."""
    import django

    django.setup()
    from django.contrib.auth.hashers import make_password
    from django.core.management import call_command
    from django.db import transaction
    from django.utils import timezone

    from files import paths, services
    from files.models import Node
    from people.models import User
    from tokens.audit import AuditEvent
    from tokens.models import PersonalAccessToken, expiring_from

    size = DATA_SETS[name]
    started = time.monotonic()
    call_command("migrate", verbosity=0)
    call_command("collectstatic", "--noinput", verbosity=0)
    call_command("seed_demo", stdout=open(os.devnull, "w"))
    alice = User.objects.get(login="alice")
    admin = User.objects.get(login="admin")
    now = timezone.now()
    password = make_password("unused-bench-password")

    with transaction.atomic():
        generated = size.users - User.objects.count()
        for users in batches(
            User(
                login=f"user{index:05}",
                display_name=f"User {index}",
                email=f"user{index}@example.com",
                password=password,
            )
            for index in range(generated)
        ):
            User.objects.bulk_create(users)
        owners = list(User.objects.exclude(pk=alice.pk).values_list("pk", flat=True))

        def token(index: int, owner_id: int) -> PersonalAccessToken:
            # A spread of ages and ends: expired, expiring soon and active tokens, as an instance collects them.
            created = now - timedelta(days=index % 365, minutes=index % 1440)
            ends = created + timedelta(days=(index * 7) % 400 + 1)
            # One in twenty deleted while it still had life left: kept, revoked, until the retention removes it.
            revoked = (
                created + (ends - created) / 2 if index % 20 == 0 and created + (ends - created) / 2 < now else None
            )
            return PersonalAccessToken(
                owner_id=owner_id,
                label=f"token {index}",
                lookup_id=f"b{index:011}",
                digest="0" * 64,
                pepper_version=1,
                expiration_model=PersonalAccessToken.HARD_LIMIT,
                expires_at=revoked or ends,
                expiring_from=expiring_from(ends, created),
                revoked_at=revoked,
                revoked_how=PersonalAccessToken.DELETED if revoked else "",
                created_at=created,
                created_by_id=admin.pk,
                created_via=PersonalAccessToken.VIA_CONSOLE,
            )

        others = size.tokens - size.alice_tokens
        rows = (
            token(index, alice.pk if index < size.alice_tokens - 1 else owners[index % len(owners)])
            for index in range(others + size.alice_tokens - 1)
        )
        for tokens in batches(rows):
            PersonalAccessToken.objects.bulk_create(tokens)
        # alice's last token is a real one: the measurements authenticate with it.
        _token, raw = PersonalAccessToken.objects.issue(
            owner=alice, label="bench", refresh_window=timedelta(hours=1), created_via="cli", ignore_limit=True
        )

        events = [choice for choice, _label in AuditEvent.EVENTS]

        def audit(index: int) -> AuditEvent:
            owner = alice if index % 100 == 0 else None
            return AuditEvent(
                at=now - timedelta(seconds=index * 30),
                # One in ten is a refused use, the rest spread over the other events.
                event=AuditEvent.REFUSED if index % 10 == 3 else events[index % len(events)],
                actor_label="admin",
                owner_id=owner.pk if owner else None,
                owner_login="alice" if owner else f"user{index % 10_000:05}",
                token_id=f"b{index % size.tokens:011}",
                token_label=f"token {index % size.tokens}",
                via="console",
                ip="127.0.0.1",
            )

        for events_batch in batches(audit(index) for index in range(size.audit_events)):
            AuditEvent.objects.bulk_create(events_batch)

        common = paths.resolve_path("/common")
        assert common is not None
        folder = services.create_folder(parent=common, name=BIG_FOLDER)
        for nodes in batches(
            Node(
                workspace_id=folder.workspace_id,
                parent=folder,
                name=f"file-{index:05}.txt",
                path=f"{folder.path}/file-{index:05}.txt",
                type=Node.FILE,
                size=100,
                mtime=now,
                etag=f"etag{index}",
                content_type="text/plain",
            )
            for index in range(size.files)
        ):
            Node.objects.bulk_create(nodes)
    from django.db import connection

    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")  # as a long-lived instance's planner would know its tables
    return {"folder": str(folder.uuid), "token": raw, "seconds": round(time.monotonic() - started, 1)}


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cellsadmin.settings")
    print(json.dumps(generate(sys.argv[1])))
