from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.test import Client

from files.models import Node, Workspace
from people.models import User
from tests.support.demo import DEMO_PASSWORD, Demo


@pytest.fixture(autouse=True, scope="session")
def _wsgi_application_loaded() -> None:
    """The WSGI module, imported before any test: importing it runs ``django.setup()`` again, which configures
    logging afresh and so would drop the handler through which ``caplog`` sees the log of the test that
    happened to import it first (``tests.support.dav_support.DavClient`` does, lazily)."""
    import cellsadmin.wsgi  # noqa: F401


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    """Throttle counters and cached values never leak from one test into the next."""
    from django.core.cache import cache

    cache.clear()


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
