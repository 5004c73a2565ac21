"""``manage.py seed_demo``: the demo data set (admin, alice and bob; the workspaces ``common`` and ``research``
with their files and grants). Running it again changes nothing."""

from __future__ import annotations

import io
import os
import secrets
from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction

from files import services
from files.models import Grant, Node, Workspace
from people.models import User

USERS = [
    ("admin", "Administrator", "admin@example.com", True),
    ("alice", "Alice Liddell", "alice@example.com", False),
    ("bob", "Bob Builder", "bob@example.com", False),
]
WORKSPACES: list[dict[str, Any]] = [
    {
        "slug": "common",
        "label": "Common Files",
        "grants": {"alice": Grant.READ_WRITE, "bob": Grant.READ, "admin": Grant.READ_WRITE},
        "files": {
            "welcome.txt": b"Welcome to the Common Files workspace.\n",
            "projects/alpha/readme.txt": b"Project Alpha: read me first.\n",
            "projects/alpha/data.csv": b"id,name,value\n1,first,10\n2,second,20\n",
            "projects/beta/notes.md": b"# Beta\n\nNotes for project beta.\n",
        },
    },
    {
        "slug": "research",
        "label": "Research",
        "grants": {"alice": Grant.READ_WRITE},
        "files": {"paper.txt": b"A paper in progress.\n"},
    },
]


class Command(BaseCommand):
    help = "Load the demo users, workspaces and files once (admin, alice, bob; common, research)."

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        password = os.environ.get("DEMO_PASSWORD") or ""
        generated = not password
        if generated:
            password = secrets.token_urlsafe(12)
        created_users = []
        for login, display_name, email, is_admin in USERS:
            user = User.objects.filter(login__iexact=login).first()
            if user is None:
                user = User.objects.create_user(
                    login, password, display_name=display_name, email=email, is_admin=is_admin, is_superuser=is_admin
                )
                created_users.append(login)
        for spec in WORKSPACES:
            workspace = Workspace.objects.filter(slug=spec["slug"]).first()
            if workspace is None:
                workspace = services.create_workspace(slug=spec["slug"], label=spec["label"])
                for login, level in spec["grants"].items():
                    Grant.objects.create(workspace=workspace, user=User.objects.get(login=login), level=level)
                for path, content in spec["files"].items():
                    self._put(workspace, path, content)
        if created_users:
            shown = password if generated else "the value of DEMO_PASSWORD"
            self.stdout.write(f"Demo users {', '.join(created_users)} created; password: {shown}")
            if generated:
                self.stdout.write("This password is shown only once; set DEMO_PASSWORD to choose one.")
        else:
            self.stdout.write("Demo data already present; nothing changed.")

    def _put(self, workspace: Workspace, path: str, content: bytes) -> None:
        parent = Node.objects.get(workspace=workspace, parent__isnull=True)
        *folders, name = path.split("/")
        for folder in folders:
            existing = Node.objects.filter(parent=parent, name=folder).first()
            parent = existing or services.create_folder(parent=parent, name=folder)
        services.write_file(parent=parent, name=name, stream=io.BytesIO(content))
