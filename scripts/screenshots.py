"""Take the console screenshots in docs/screenshots/ (light and dark) from a scratch instance.

    .venv/bin/python scripts/screenshots.py

Everything lives in a temporary DATA_DIR with its own database, secret key and token pepper: the tokens seen in
the pictures are throwaways that never existed anywhere else. Needs Debian's chromium (never a downloaded one).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "screenshots"
SCRATCH = Path(tempfile.mkdtemp(prefix="cellsadmin-screenshots-"))
PASSWORD = secrets.token_urlsafe(12)

os.environ.update(
    DJANGO_SETTINGS_MODULE="cellsadmin.settings",
    DATA_DIR=str(SCRATCH),
    DEMO_PASSWORD=PASSWORD,
    TOKEN_PEPPERS="1:" + secrets.token_urlsafe(32),
    SECRET_KEY=secrets.token_urlsafe(48),
    DJANGO_ALLOW_ASYNC_UNSAFE="true",
    # The seed issues tokens through the services, which e-mail owners: nowhere, here.
    EMAIL_URL="dummymail://",
)
sys.path.insert(0, str(ROOT))


def seed() -> None:
    import django

    django.setup()
    import time_machine
    from django.core.management import call_command
    from django.utils import timezone

    from files import paths, services
    from files.models import DavLock
    from people.models import User
    from tokens.audit import AuditEvent
    from tokens.models import PersonalAccessToken, TokenError
    from tokens.scopes import parse_scopes
    from tokens.services import token_create, token_delete

    call_command("migrate", verbosity=0)
    call_command("seed_demo", verbosity=0)
    now = timezone.now()
    admin, alice = User.objects.get(login="admin"), User.objects.get(login="alice")
    User.objects.filter(login="alice").update(display_name="Alice Martin", email="alice@example.org", last_login=now)
    User.objects.filter(login="bob").update(display_name="Bob Chen", email="bob@example.org")
    User.objects.filter(login="admin").update(display_name="Administrator", email="admin@example.org")
    for login, name in [("carol", "Carol Diaz"), ("dmitri", "Dmitri Volkov"), ("erin", "Erin O'Neill")]:
        User.objects.create_user(login, display_name=name, email=f"{login}@example.org")
    User.objects.filter(login="erin").update(is_active=False)

    def node(path: str) -> str:
        found = paths.resolve_path(path)
        assert found is not None
        return str(found.uuid)

    alpha, paper, common = node("/common/projects/alpha"), node("/research/paper.txt"), node("/common")
    parent = paths.resolve_path("/common")
    assert parent is not None
    scratch = services.create_folder(parent=parent, name="scratch")

    def issue(ago: timedelta, owner: User = alice, **kwargs: object) -> str:
        # Through the service, as the console and the command do: the audit trail gets the creations too.
        created_by = kwargs.pop("created_by", None)
        via = str(kwargs.pop("created_via", "cli"))
        with time_machine.travel(now - ago, tick=False):
            return token_create(owner=owner, actor=created_by, via=via, ip="192.0.2.1", **kwargs)[1]  # type: ignore[arg-type]

    def use(raw: str, ago: timedelta, ip: str, protocol: str, agent: str = "") -> None:
        with time_machine.travel(now - ago, tick=False):
            PersonalAccessToken.objects.authenticate(raw, ip=ip, protocol=protocol, user_agent=agent)

    raw = issue(
        timedelta(days=12),
        label="backup script",
        expires_in=timedelta(days=90),
        scopes=parse_scopes([f"node:{alpha}:rw"]),
        created_by=admin,
        created_via="console",
    )
    use(raw, timedelta(days=11), "192.0.2.10", "REST", "restic/0.16.4")
    use(raw, timedelta(days=4), "192.0.2.44", "REST", "curl/8.5.0")
    use(raw, timedelta(hours=2), "192.0.2.10", "REST", "restic/0.16.4")
    raw = issue(timedelta(days=3), label="rclone on laptop", refresh_window=timedelta(days=7), created_via="cli")
    use(raw, timedelta(minutes=5), "198.51.100.23", "WebDAV", "rclone/v1.66.0")
    issue(
        timedelta(days=27),
        label="CI deploy",
        expires_in=timedelta(days=30),
        scopes=parse_scopes([f"node:{paper}:r", f"node:{common}:r"]),
        created_by=admin,
        created_via="console",
    )
    issue(
        timedelta(days=45),
        label="old report job",
        expires_in=timedelta(days=30),
        scopes=parse_scopes([f"node:{scratch.uuid}:w"]),
        created_via="cli",
    )
    bob = User.objects.get(login="bob")
    raw = issue(timedelta(days=50), owner=bob, label="photo sync", expires_in=timedelta(days=200))
    use(raw, timedelta(days=41), "203.0.113.50", "WebDAV", "davfs2/1.7.0 neon/0.33.0")
    issue(
        timedelta(days=6), owner=User.objects.get(login="carol"), label="calendar export", expires_in=timedelta(days=60)
    )
    with time_machine.travel(now - timedelta(days=2), tick=False):
        lost = PersonalAccessToken.objects.get(label="photo sync")
        token_delete(token=lost, actor=admin, via="console", reason="phone lost", ip="192.0.2.1")
        for _attempt in range(4):
            AuditEvent.record_refusal(
                token_id=lost.lookup_id,
                token=None,
                ip="203.0.113.50",
                protocol="WebDAV",
                reason="unknown token or wrong secret",
            )
    raw = issue(timedelta(days=20), owner=bob, label="photo sync", expires_in=timedelta(days=200), created_via="cli")
    use(raw, timedelta(hours=30), "203.0.113.51", "WebDAV", "davfs2/1.7.0 neon/0.33.0")
    # Refused by the policy, and recorded so: that is the point.
    with time_machine.travel(now - timedelta(hours=5), tick=False), contextlib.suppress(TokenError):
        token_create(owner=alice, label="forever", expires_in=timedelta(days=3000), actor=admin, via="console")
    # Deleted while it still worked: listed among alice's inactive tokens as revoked.
    issue(timedelta(days=40), label="old laptop", expires_in=timedelta(days=90), created_via="cli")
    with time_machine.travel(now - timedelta(days=1), tick=False):
        laptop = PersonalAccessToken.objects.get(label="old laptop")
        token_delete(token=laptop, actor=admin, via="console", reason="laptop replaced", ip="192.0.2.1")
    services.delete(scratch)
    # Two files alice's applications have open over WebDAV (the WebDAV locks tab).
    for path, client, hours in (
        ("/common/projects/alpha/readme.txt", "LibreOffice 24.2 on alice-laptop", 3),
        ("/research/paper.txt", "Microsoft Office Word", 24 * 28),
    ):
        DavLock.objects.create(
            token=f"opaquelocktoken:0x{uuid.uuid4().hex}",
            root=path,
            principal=str(alice.uuid),
            owner=f'<D:owner xmlns:D="DAV:"><D:href>{client}</D:href></D:owner>'.encode(),
            scope="exclusive",
            depth="0",
            timeout=hours * 3600,
            expire=time.time() + hours * 3600 - 600,
        )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def shoot(base: str) -> None:
    from tests.support.browser import chromium
    from tokens.audit import AuditEvent
    from tokens.models import PersonalAccessToken

    OUT.mkdir(parents=True, exist_ok=True)
    with chromium() as browser:
        for scheme in ("light", "dark"):
            context = browser.new_context(base_url=base, color_scheme=scheme, viewport={"width": 1280, "height": 820})
            page = context.new_page()
            page.goto("/login/")
            page.get_by_label("Username").fill("admin")
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Log in").click()
            page.wait_for_url("**/people/")
            page.screenshot(path=OUT / f"people-{scheme}.png", full_page=True)

            page.get_by_role("link", name="alice", exact=True).click()
            page.get_by_role("link", name="Personal Access Tokens").click()
            page.wait_for_url("**/tokens/")
            page.get_by_role("row").first.wait_for()
            # With the expired ones below the live ones, as the tab lists them.
            page.get_by_role("link", name="Show inactive tokens").click()
            page.locator("#inactive-list .token-label").first.wait_for()
            page.mouse.move(0, 0)
            page.screenshot(path=OUT / f"tokens-{scheme}.png", full_page=True)

            row = page.locator("tr.token-row", has_text="backup script")
            row.locator("xpath=following-sibling::tr[1]//summary").click()
            page.get_by_text("restic/0.16.4").first.wait_for()
            page.mouse.move(0, 0)
            page.screenshot(path=OUT / f"token-details-{scheme}.png", full_page=True)
            page.reload()

            page.get_by_role("button", name="Create a personal access token").click()
            dialog = page.get_by_role("dialog", name="Create a Personal Access Token")
            dialog.get_by_label("Label").fill("nightly sync")
            dialog.get_by_label("Auto Refresh").check()
            dialog.get_by_label("Duration").fill("12")
            dialog.get_by_label("Unit").select_option(label="Hours")
            dialog.get_by_text("Common Files", exact=True).click()
            dialog.get_by_text("projects", exact=True).click()
            dialog.get_by_label("Access to /common/projects/alpha").select_option(label="rw (read & write)")
            dialog.get_by_label("WebDAV").check()
            dialog.get_by_label("Allowed addresses").fill("192.0.2.0/24")
            page.get_by_role("heading", name="Create a Personal Access Token").click()  # no focus ring in the picture
            page.set_viewport_size({"width": 1280, "height": 1640})  # the whole dialog, down to Generate
            page.screenshot(path=OUT / f"create-{scheme}.png")

            dialog.get_by_role("button", name="Generate").click()
            page.get_by_label("Token", exact=True).wait_for()
            page.set_viewport_size({"width": 1280, "height": 1100})
            page.wait_for_timeout(300)  # let the list behind the dialog refresh
            page.screenshot(path=OUT / f"reveal-{scheme}.png")
            page.get_by_role("link", name="I have copied the token").click()

            page.set_viewport_size({"width": 1280, "height": 820})
            page.get_by_role("button", name="Rotate nightly sync").click()
            page.get_by_role("dialog", name="Rotate “nightly sync”?").get_by_role("button", name="Rotate token").click()
            page.get_by_label("Token", exact=True).wait_for()
            page.wait_for_timeout(300)
            page.set_viewport_size({"width": 1280, "height": 1000})
            page.screenshot(path=OUT / f"rotate-{scheme}.png")
            page.get_by_role("link", name="I have copied the token").click()
            # Gone without a trace, so that the next colour scheme starts from the same instance.
            PersonalAccessToken.objects.filter(label="nightly sync").delete()
            AuditEvent.objects.filter(token_label="nightly sync").delete()  # noqa: S106 (a label, not a secret)
            page.set_viewport_size({"width": 1280, "height": 820})

            page.get_by_role("link", name="Tokens", exact=True).click()
            page.wait_for_url("**/tokens/")
            page.get_by_label("Select old report job of alice").check()
            page.get_by_label("Select calendar export of carol").check()
            page.get_by_role("heading", name="Tokens", exact=True).click()
            page.screenshot(path=OUT / f"inventory-{scheme}.png", full_page=True)

            page.get_by_role("link", name="Audit", exact=True).click()
            page.wait_for_url("**/audit/")
            page.screenshot(path=OUT / f"audit-{scheme}.png", full_page=True)

            page.get_by_role("link", name="Policy", exact=True).click()
            page.wait_for_url("**/policy/")
            page.screenshot(path=OUT / f"policy-{scheme}.png", full_page=True)

            page.goto("/people/alice/locks/")
            page.get_by_role("heading", name="WebDAV locks").wait_for()
            page.screenshot(path=OUT / f"locks-{scheme}.png", full_page=True)

            page.goto("/me/preferences/")
            page.get_by_label("Time zone").select_option("Europe/Paris")
            page.get_by_role("heading", name="Preferences").click()
            page.screenshot(path=OUT / f"preferences-{scheme}.png", full_page=True)

            if scheme == "light":
                phone = browser.new_context(
                    base_url=base, color_scheme=scheme, viewport={"width": 390, "height": 844}, device_scale_factor=2
                )
                phone.add_cookies(context.cookies())
                small = phone.new_page()
                small.goto("/people/alice/tokens/")
                small.get_by_role("link", name="Show inactive tokens").click()
                small.locator("#inactive-list .token-label").first.wait_for()
                small.screenshot(path=OUT / "tokens-phone-light.png", full_page=True)
                phone.close()
            context.close()


def main() -> None:
    seed()
    port = free_port()
    server = subprocess.Popen(  # noqa: S603 (this interpreter, fixed arguments)
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
        cwd=ROOT,
        env=os.environ.copy(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _attempt in range(100):
            try:
                urllib.request.urlopen(base + "/login/", timeout=1)  # noqa: S310 (our own scratch server)
                break
            except OSError:
                time.sleep(0.1)
        shoot(base)
    finally:
        server.terminate()
        server.wait(timeout=10)
        shutil.rmtree(SCRATCH, ignore_errors=True)
    print(f"screenshots written to {OUT.relative_to(ROOT)}/")


if __name__ == "__main__":
    main()
