"""The demo data set the tests run against (``manage.py seed_demo``), and what they need to know of it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from files import paths
from files.models import Node, Workspace
from people.models import User
from tokens.models import PersonalAccessToken
from tokens.scopes import parse_scopes

#: The demo users' password in tests (``DEMO_PASSWORD`` while ``seed_demo`` runs).
DEMO_PASSWORD = "demo-password-for-tests"


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
        kwargs.setdefault("expires_in", timedelta(days=1))
        return PersonalAccessToken.objects.issue(
            owner=owner,
            # Unlabelled tokens of a test are told apart by their public id: live labels are unique per owner.
            label=kwargs.pop("label", None) or (lambda public_id: f"test {public_id}"),
            scopes=parse_scopes(scopes or []),
            **kwargs,
        )
