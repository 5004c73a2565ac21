from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.forms.models import model_to_dict

from files.models import Grant
from files.rights import rights_for
from people.models import User
from tokens import lookup
from tokens.models import PersonalAccessToken


def test_prepared_lookup_matches_the_orm_field_for_field(demo):
    alpha = demo.node("/common/projects/alpha")
    token, raw = demo.token(
        demo.alice, expires_in=timedelta(days=3), refresh_window=timedelta(hours=2), scopes=[f"node:{alpha.uuid}:rw"]
    )
    PersonalAccessToken.objects.authenticate(raw, ip="192.0.2.1", protocol="REST", user_agent="curl")
    found = lookup.find(token.lookup_id)
    expected = PersonalAccessToken.objects.select_related("owner").get(pk=token.pk)
    assert found is not None
    assert {f.attname: getattr(found, f.attname) for f in PersonalAccessToken._meta.concrete_fields} == {
        f.attname: getattr(expected, f.attname) for f in PersonalAccessToken._meta.concrete_fields
    }
    assert model_to_dict(found.owner) == model_to_dict(expected.owner)
    assert found.refresh_window == timedelta(hours=2)
    assert found.recent_uses[0]["agent"] == "curl"
    assert not found._state.adding


def test_unknown_id_is_none(demo):
    assert lookup.find("nosuchid0000") is None


@pytest.mark.parametrize("login", ["alice", "bob", "carol"])
def test_the_lookup_reads_the_owners_grants_for_the_next_rights_question(demo, login, django_assert_num_queries):
    group = Group.objects.create(name="readers")
    Grant.objects.create(workspace=demo.research, group=group, level=Grant.READ)
    owner = User.objects.create_user(login="carol") if login == "carol" else getattr(demo, login)
    if login != "alice":
        owner.groups.add(group)
    token, _raw = demo.token(owner)
    expected = rights_for(User.objects.get(pk=owner.pk)).grants

    found = lookup.find(token.lookup_id)
    assert found is not None
    with django_assert_num_queries(0):
        assert rights_for(found.owner, found).grants == expected
    with django_assert_num_queries(1):  # used once: a later question reads the grants again
        assert rights_for(found.owner, found).grants == expected
