from __future__ import annotations

from datetime import timedelta

from django.db.models import Model

from tokens import lookup
from tokens.models import PersonalAccessToken


def _fields(instance: Model) -> dict[str, object]:
    return {field.attname: getattr(instance, field.attname) for field in type(instance)._meta.concrete_fields}


def test_prepared_lookup_matches_the_orm_field_for_field(demo, django_assert_num_queries):
    alpha = demo.node("/common/projects/alpha")
    token, raw = demo.token(
        demo.alice, expires_in=timedelta(days=3), refresh_window=timedelta(hours=2), scopes=[f"node:{alpha.uuid}:rw"]
    )
    PersonalAccessToken.objects.authenticate(raw, ip="192.0.2.1", protocol="REST", user_agent="curl")
    with django_assert_num_queries(1):  # the token with its owner, as a request checks them
        found = lookup.find(PersonalAccessToken, token.lookup_id)
        assert found is not None
        assert (found.owner.login, found.owner.is_active) == ("alice", True)
    expected = PersonalAccessToken.objects.select_related("owner").get(pk=token.pk)
    assert _fields(found) == _fields(expected)
    assert _fields(found.owner) == _fields(expected.owner)
    assert found.refresh_window == timedelta(hours=2)
    assert found.recent_uses[0]["agent"] == "curl"
    # Loaded from the database, not new: saving it updates its row.
    found.label = "saved again"
    found.save()
    assert PersonalAccessToken.objects.get(pk=token.pk).label == "saved again"
    assert PersonalAccessToken.objects.filter(owner=demo.alice).count() == 1


def test_unknown_id_is_none(demo):
    assert lookup.find(PersonalAccessToken, "nosuchid0000") is None


def test_a_row_seen_again_gives_new_instances_with_their_own_mutable_values(demo):
    alpha = demo.node("/common/projects/alpha")
    token, _raw = demo.token(demo.alice, scopes=[f"node:{alpha.uuid}:rw"])
    first = lookup.find(PersonalAccessToken, token.lookup_id)
    second = lookup.find(PersonalAccessToken, token.lookup_id)
    assert first is not None and second is not None
    assert first is not second and first.owner is not second.owner
    assert first.scopes == second.scopes and first.scopes is not second.scopes
    first.scopes.append("node:changed:r")
    first.label = "changed in memory"
    third = lookup.find(PersonalAccessToken, token.lookup_id)
    assert third is not None
    assert third.scopes == [f"node:{alpha.uuid}:rw"]
    assert third.label == token.label


def test_a_changed_row_is_converted_again(demo):
    token, _raw = demo.token(demo.alice, expires_in=timedelta(days=3))
    assert lookup.find(PersonalAccessToken, token.lookup_id) is not None
    later = token.expires_at + timedelta(days=1)
    PersonalAccessToken.objects.filter(pk=token.pk).update(expires_at=later, label="renamed")
    demo.alice.is_active = False
    demo.alice.save(update_fields=["is_active"])
    found = lookup.find(PersonalAccessToken, token.lookup_id)
    assert found is not None
    assert (found.expires_at, found.label, found.owner.is_active) == (later, "renamed", False)
