"""The console's WebDAV locks tab (People → a user): what the user's applications hold, and releasing a lock that
one left behind, after which the file can be written again (over the REST API too)."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from files.locks.held_locks import client_text
from files.models import DavLock
from tests.support.api_helpers import call
from tests.support.content import content_of
from tests.support.dav_support import DavClient, editor_lock

README = "/dav/common/projects/alpha/readme.txt"


@pytest.fixture
def alices_lock(demo) -> str:
    _token, secret = demo.token(demo.alice)
    return editor_lock(DavClient("alice", secret), README)


@pytest.fixture
def bobs_lock(demo) -> str:
    """A lock of bob's on a folder (with everything below it): bob may only read here, so it is written as
    WsgiDAV would write it."""
    token = "opaquelocktoken:bob"
    DavLock.objects.create(
        token=token,
        root="/research",
        principal=str(demo.bob.uuid),
        owner=b'<D:owner xmlns:D="DAV:">Finder</D:owner>',
        scope="exclusive",
        depth="infinity",
        timeout=3600,
        expire=time.time() + 3600,
    )
    return token


def test_the_tab_lists_the_users_locks_with_path_application_and_expiry(admin_client, alices_lock, bobs_lock):
    response = admin_client.get("/people/alice/locks/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'aria-current="page">WebDAV locks</a>' in html
    assert '<code class="break">/common/projects/alpha/readme.txt</code>' in html
    assert "LibreOffice on alice-laptop" in html
    assert "Exclusive" in html and re.search(r"in (59|60) minutes", html)
    assert f'name="token" value="{alices_lock}"' in html
    assert bobs_lock not in html  # bob's lock is on bob's tab
    bobs = admin_client.get("/people/bob/locks/").content.decode()
    assert '<code class="break">/research</code>' in bobs and "with everything below it" in bobs


def test_the_tab_says_so_when_there_is_no_lock_and_leaves_expired_ones_out(admin_client, demo, alices_lock):
    with time_machine.travel(timezone.now() + timedelta(hours=2)):
        html = admin_client.get("/people/alice/locks/").content.decode()
    assert "No WebDAV locks" in html and alices_lock not in html


def test_htmx_gets_the_tab_panel_alone(admin_client, alices_lock):
    response = admin_client.get("/people/alice/locks/", HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert "<!DOCTYPE html>" not in html and 'id="locks-title"' in html
    assert "HX-Request" in response["Vary"]


def test_releasing_a_lock_lets_the_api_write_the_file_again(admin_client, client, alice, readme, alices_lock):
    assert call(client, "PUT", f"/nodes/{readme.uuid}/content", b"script", alice).status_code == 423
    response = admin_client.post("/people/alice/locks/release/", {"token": alices_lock}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Released the lock on /common/projects/alpha/readme.txt" in html and "No WebDAV locks" in html
    assert "<!DOCTYPE html>" not in html
    assert not DavLock.objects.filter(token=alices_lock).exists()
    assert call(client, "PUT", f"/nodes/{readme.uuid}/content", b"script", alice).status_code == 200
    assert content_of(readme) == b"script"


def test_without_htmx_the_release_answers_with_the_whole_page(admin_client, alices_lock):
    response = admin_client.post("/people/alice/locks/release/", {"token": alices_lock})
    assert response.status_code == 200
    assert b"<!DOCTYPE html>" in response.content and b"Released the lock" in response.content
    again = admin_client.post("/people/alice/locks/release/", {"token": alices_lock})
    assert b"That lock is no longer held." in again.content


@pytest.mark.parametrize("token", ["", "nothing", "opaquelocktoken:\x00", "x" * 10_000, "%", "' OR 1=1 --"])
def test_a_bad_or_unknown_token_releases_nothing(admin_client, alices_lock, bobs_lock, token):
    response = admin_client.post("/people/alice/locks/release/", {"token": token})
    assert response.status_code == 200
    assert b"That lock is no longer held." in response.content
    assert DavLock.objects.count() == 2


def test_another_users_lock_is_not_released_through_this_users_tab(admin_client, alices_lock, bobs_lock):
    response = admin_client.post("/people/alice/locks/release/", {"token": bobs_lock})
    assert b"That lock is no longer held." in response.content
    assert DavLock.objects.filter(token=bobs_lock).exists()


def test_only_administrators_reach_the_tab(client, bob_client, alice_client, alices_lock):
    assert bob_client.get("/people/alice/locks/").status_code == 403
    assert alice_client.post("/people/alice/locks/release/", {"token": alices_lock}).status_code == 403
    assert client.get("/people/alice/locks/").status_code == 302  # to the login page
    assert client.post("/people/alice/locks/release/", {"token": alices_lock}).status_code == 302
    assert DavLock.objects.filter(token=alices_lock).exists()


def test_releasing_needs_a_post_with_the_csrf_token(admin_client, demo, alices_lock):
    from django.test import Client

    assert admin_client.get("/people/alice/locks/release/").status_code == 405
    checked = Client(enforce_csrf_checks=True)
    checked.force_login(demo.admin)
    assert checked.post("/people/alice/locks/release/", {"token": alices_lock}).status_code == 403
    assert DavLock.objects.filter(token=alices_lock).exists()


def test_an_unknown_user_is_404(admin_client, db):
    assert admin_client.get("/people/nobody/locks/").status_code == 404
    assert admin_client.post("/people/nobody/locks/release/", {"token": "x"}).status_code == 404


@pytest.mark.parametrize(
    ("owner", "text"),
    [
        (b"", ""),
        (
            b'<ns0:owner xmlns:ns0="DAV:"><ns0:href>http://example.org/~alice</ns0:href></ns0:owner>',
            "http://example.org/~alice",
        ),
        (b'<owner xmlns="DAV:">  Finder\n  on   mac </owner>', "Finder on mac"),
        (b"not xml at all", ""),
        (b'<!DOCTYPE x [<!ENTITY a "aaaa">]><owner>&a;&a;</owner>', ""),  # entities are refused, not expanded
        (b"<owner>" + b"y" * 500 + b"</owner>", "y" * 119 + "…"),
    ],
)
def test_what_a_client_wrote_into_its_lock_is_shown_as_plain_text(owner, text):
    assert client_text(owner) == text


def test_a_lock_whose_user_is_gone_is_still_told_apart(db):
    from files.locks import held_locks

    DavLock.objects.create(
        token="opaquelocktoken:x",
        root="/common/a%20b",
        principal="someone",
        owner=b"",
        scope="shared",
        depth="0",
        timeout=60,
        expire=time.time() + 60,
    )
    (lock,) = held_locks.describe(held_locks.held())
    assert (lock.path, lock.holder, lock.scope) == ("/common/a b", "someone", "shared")


def test_a_user_sees_and_releases_their_own_locks_beside_their_tokens(alice_client, alices_lock, bobs_lock):
    tokens = alice_client.get("/me/tokens/").content.decode()
    assert 'href="/me/locks/"' in tokens  # the tabs of one's own page
    html = alice_client.get("/me/locks/").content.decode()
    assert 'aria-current="page">WebDAV locks</a>' in html and "/common/projects/alpha/readme.txt" in html
    assert 'action="/me/locks/release/"' in html and bobs_lock not in html
    assert "dav_locks" not in html
    response = alice_client.post("/me/locks/release/", {"token": alices_lock}, HTTP_HX_REQUEST="true")
    assert b"Released the lock on /common/projects/alpha/readme.txt" in response.content
    assert not DavLock.objects.filter(token=alices_lock).exists()


def test_a_user_cannot_release_someone_elses_lock_as_their_own(alice_client, bobs_lock):
    response = alice_client.post("/me/locks/release/", {"token": bobs_lock})
    assert b"That lock is no longer held." in response.content
    assert DavLock.objects.filter(token=bobs_lock).exists()
    assert alice_client.post("/people/bob/locks/release/", {"token": bobs_lock}).status_code == 403


def test_ones_own_locks_need_a_session(client, alices_lock):
    assert client.get("/me/locks/").status_code == 302
    assert client.post("/me/locks/release/", {"token": alices_lock}).status_code == 302
    assert DavLock.objects.filter(token=alices_lock).exists()


def test_a_release_is_kept_in_the_audit_trail(admin_client, alice_client, demo, alices_lock, bobs_lock):
    from tokens.audit import AuditEvent

    admin_client.post("/people/bob/locks/release/", {"token": bobs_lock}, REMOTE_ADDR="192.0.2.7")
    alice_client.post("/me/locks/release/", {"token": alices_lock})
    admin_client.post("/people/alice/locks/release/", {"token": "nothing"})  # nothing released, nothing recorded
    records = list(AuditEvent.objects.filter(event=AuditEvent.LOCK_RELEASED).order_by("at", "id"))
    assert [(r.owner_login, r.actor_label, r.via, r.reason) for r in records] == [
        ("bob", "admin", "console", "/research (exclusive, depth infinity)"),
        ("alice", "alice", "console", "/common/projects/alpha/readme.txt (exclusive, depth 0)"),
    ]
    assert records[0].ip == "192.0.2.7" and records[0].token_id == ""
    page = admin_client.get("/audit/", {"event": "lock_released"}).content.decode()
    assert "WebDAV lock released" in page and "/research (exclusive, depth infinity)" in page
    assert alices_lock not in page and bobs_lock not in page
