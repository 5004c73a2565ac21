from __future__ import annotations

import io
import os
import shutil
from dataclasses import dataclass

import pytest
from django.core.management import call_command
from django.test import Client

from files import paths, services
from files.models import Node, Workspace
from people.models import User
from tokens.models import PersonalAccessToken

DEMO_PASSWORD = "demo-password-for-tests"


def require_tool(command: str, package: str | None = None) -> str:
    """The path of a system program the test drives; skip (or, in CI, fail) when it is missing."""
    path = shutil.which(command)
    if path is None:
        message = f"needs the Debian package {package or command} (make test installs it as root)"
        if os.environ.get("REQUIRE_SYSTEM_TOOLS") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture(autouse=True, scope="session")
def _wsgi_application_loaded() -> None:
    """The WSGI module, imported before any test: importing it runs ``django.setup()`` again, which configures
    logging afresh and so would drop the handler through which ``caplog`` sees the log of the test that
    happened to import it first (``tests.dav_support.DavClient`` does, lazily)."""
    import cellsadmin.wsgi  # noqa: F401


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    """Throttle counters and cached values never leak from one test into the next."""
    from django.core.cache import cache

    cache.clear()


def stored_blobs() -> set[str]:
    """Every blob in the storage (``ab/<name>``), whether a node points at it or not."""
    from django.core.files.storage import default_storage

    found: set[str] = set()
    for folder in default_storage.listdir("blobs")[0]:
        found.update(f"{folder}/{name}" for name in default_storage.listdir(f"blobs/{folder}")[1])
    return found


def content_of(node: Node) -> bytes:
    """A file's bytes as stored now (the node is read again first)."""
    node.refresh_from_db()
    with services.open_content(node) as handle:
        return handle.read()


def fill_folder(folder: Node, count: int) -> None:
    """``count`` small file rows in ``folder`` at once (listing tests need many children, not their content)."""
    from django.utils import timezone

    now = timezone.now()
    Node.objects.bulk_create(
        Node(
            workspace_id=folder.workspace_id,
            parent=folder,
            name=f"file-{index:04}.txt",
            path=f"{folder.path}/file-{index:04}.txt",
            type=Node.FILE,
            size=index,
            mtime=now,
            etag=f"etag{index}",
            content_type="text/plain",
        )
        for index in range(count)
    )


@dataclass
class Demo:
    admin: User
    alice: User
    bob: User
    common: Workspace
    research: Workspace

    def node(self, public_path: str) -> Node:
        node = paths.resolve_path(public_path)
        assert node is not None, public_path
        return node

    def token(
        self, owner: User, *, scopes: list[str] | None = None, **kwargs: object
    ) -> tuple[PersonalAccessToken, str]:
        from datetime import timedelta

        from files.scopes import parse_scopes

        kwargs.setdefault("expires_in", timedelta(days=1))
        return PersonalAccessToken.objects.issue(
            owner=owner,
            label=kwargs.pop("label", "test"),
            scopes=parse_scopes(scopes or []),
            **kwargs,
        )


@pytest.fixture
def demo(db: None, monkeypatch: pytest.MonkeyPatch) -> Demo:
    monkeypatch.setenv("DEMO_PASSWORD", DEMO_PASSWORD)
    call_command("seed_demo", stdout=io.StringIO())
    return Demo(
        admin=User.objects.get(login="admin"),
        alice=User.objects.get(login="alice"),
        bob=User.objects.get(login="bob"),
        common=Workspace.objects.get(slug="common"),
        research=Workspace.objects.get(slug="research"),
    )


def _signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def alice(demo: Demo) -> dict[str, str]:
    """The Authorization header of a fresh token of alice's, for the API test client."""
    return {"HTTP_AUTHORIZATION": f"Bearer {demo.token(demo.alice)[1]}"}


@pytest.fixture
def readme(demo: Demo) -> Node:
    """A file alice may write (and bob read)."""
    return demo.node("/common/projects/alpha/readme.txt")


@pytest.fixture
def admin_client(demo: Demo) -> Client:
    """The console as the demo administrator (replaces pytest-django's fixture of the same name)."""
    return _signed_in(demo.admin)


@pytest.fixture
def alice_client(demo: Demo) -> Client:
    return _signed_in(demo.alice)


@pytest.fixture
def bob_client(demo: Demo) -> Client:
    return _signed_in(demo.bob)
