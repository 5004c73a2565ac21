from __future__ import annotations

import io
import os
from collections.abc import Iterator

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.test import Client, override_settings

from files.models import Node, Workspace
from people.models import User
from tests.support.demo import DEMO_PASSWORD, Demo
from tests.support.object_store import PASS_VARIABLE, SeaweedFS, new_location, seaweedfs, weed_program


@pytest.fixture(autouse=True, scope="session")
def _wsgi_application_loaded() -> None:
    """The WSGI module, imported before any test: importing it runs ``django.setup()`` again, which configures
    logging afresh and so would drop the handler through which ``caplog`` sees the log of the test that
    happened to import it first (``tests.support.dav_support.DavClient`` does, lazily)."""
    import cellsadmin.wsgi  # noqa: F401


@pytest.fixture(scope="session")
def object_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeaweedFS]:
    """SeaweedFS, started once for the session (``tests.support.object_store``)."""
    with seaweedfs(weed_program(), tmp_path_factory.mktemp("seaweedfs")) as store:
        yield store


@pytest.fixture
def s3_blobs(object_store: SeaweedFS, settings) -> str:
    """File contents in the object store for this test, under a prefix of its own (returned)."""
    location = new_location()
    settings.STORAGES = {**settings.STORAGES, "default": object_store.storage(location)}
    return location


@pytest.fixture
def local_blobs(settings, tmp_path) -> None:
    """File contents in local files for this test, whichever store the pass uses: for what only a local
    storage does (file permissions, flushing to disk)."""
    location = str(tmp_path / "files")
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": location}},
    }


@pytest.fixture(autouse=True, scope="session")
def _object_store_pass(request: pytest.FixtureRequest) -> Iterator[None]:
    """With ``TEST_BLOB_STORE=seaweedfs`` (CI's object-store pass) every test keeps file contents in SeaweedFS,
    and so do the server processes that tests start (``tests.support.servers.scratch_env``). One storage for
    the session: each new one would load boto3's service models again."""
    if os.environ.get(PASS_VARIABLE) != "seaweedfs":
        yield
        return
    store: SeaweedFS = request.getfixturevalue("object_store")
    with pytest.MonkeyPatch.context() as patch:
        for name, value in store.env().items():
            patch.setenv(name, value)
        storages = {**django_settings.STORAGES, "default": store.storage(new_location())}
        with override_settings(STORAGES=storages):
            yield


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
