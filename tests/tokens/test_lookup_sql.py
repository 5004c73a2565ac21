"""The token lookup's one plain statement (``tokens.lookup``) gives the answer of
``select_related("owner")`` on the same data (SQLite, and PostgreSQL with DATABASE_URL)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db.models import Model
from django.utils import timezone

from people.models import User
from tokens import lookup
from tokens.models import PersonalAccessToken


def _fields(instance: Model) -> dict[str, Any]:
    # Reading a deferred field loads it, as it would on the ORM's instance.
    return {field.attname: getattr(instance, field.attname) for field in type(instance)._meta.concrete_fields}


@pytest.fixture
def tokens(demo):
    alpha, beta = demo.node("/common/projects/alpha"), demo.node("/common/projects/beta")
    made = [
        demo.token(demo.alice)[0],
        demo.token(demo.alice, label="auto", refresh_window=timedelta(minutes=5), scopes=[f"node:{alpha.uuid}:r"])[0],
        demo.token(demo.bob, label="capped", refresh_window=timedelta(hours=1), expires_in=timedelta(days=2))[0],
        demo.token(demo.admin, label="two scopes", scopes=[f"node:{alpha.uuid}:rw", f"node:{beta.uuid}:w"])[0],
    ]
    used, _raw = demo.token(demo.bob, label="used")
    PersonalAccessToken.objects.filter(pk=used.pk).update(
        last_used_at=timezone.now(),
        last_used_ip="2001:db8::1",
        last_used_protocol="WebDAV",
        recent_uses=[{"ip": "2001:db8::1", "agent": "rclone"}],
    )
    carol = User.objects.create_user("carol")
    made += [used, demo.token(carol, label="inactive owner")[0]]
    User.objects.filter(pk=carol.pk).update(is_active=False)
    return made


def test_the_lookup_finds_what_select_related_finds(tokens):
    for token in tokens:
        found = lookup.find(PersonalAccessToken, token.lookup_id)
        expected = PersonalAccessToken.objects.select_related("owner").get(lookup_id=token.lookup_id)
        assert found is not None
        assert _fields(found) == _fields(expected), token.label
        assert _fields(found.owner) == _fields(expected.owner), token.label
        assert not found._state.adding and found._state.db == expected._state.db


def test_the_owner_comes_with_the_token_in_the_one_statement(tokens, django_assert_num_queries):
    with django_assert_num_queries(1):
        found = lookup.find(PersonalAccessToken, tokens[0].lookup_id)
        assert found is not None and found.owner.login == "alice"


@pytest.mark.parametrize("lookup_id", ["nosuchid0000", "", "%", "' OR 1=1 --"])
def test_an_id_the_orm_finds_nothing_for_is_none(tokens, lookup_id):
    assert not PersonalAccessToken.objects.filter(lookup_id=lookup_id).exists()
    assert lookup.find(PersonalAccessToken, lookup_id) is None
