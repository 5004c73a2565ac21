from __future__ import annotations

from datetime import timedelta

from django.forms.models import model_to_dict

from lib import rows
from tokens import lookup
from tokens.models import PersonalAccessToken


def test_prepared_lookup_matches_the_orm_field_for_field(demo, django_assert_num_queries):
    alpha = demo.node("/common/projects/alpha")
    token, raw = demo.token(
        demo.alice, expires_in=timedelta(days=3), refresh_window=timedelta(hours=2), scopes=[f"node:{alpha.uuid}:rw"]
    )
    PersonalAccessToken.objects.authenticate(raw, ip="192.0.2.1", protocol="REST", user_agent="curl")
    with django_assert_num_queries(1):
        found = lookup.find(PersonalAccessToken, token.lookup_id)
        assert found is not None
        # What no request needs is left out, deferred: read on first access, as with .defer().
        assert found.get_deferred_fields() == {
            "created_at",
            "created_by_id",
            "created_via",
            "recent_uses",
            "reminders_sent",
        }
        assert found.owner.get_deferred_fields() == {"password", "last_login", "date_joined"}
    expected = PersonalAccessToken.objects.select_related("owner").get(pk=token.pk)
    assert {f.attname: getattr(found, f.attname) for f in PersonalAccessToken._meta.concrete_fields} == {
        f.attname: getattr(expected, f.attname) for f in PersonalAccessToken._meta.concrete_fields
    }
    assert model_to_dict(found.owner) == model_to_dict(expected.owner)
    assert found.refresh_window == timedelta(hours=2)
    assert found.recent_uses[0]["agent"] == "curl"
    assert not found._state.adding


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


def test_the_memo_of_converted_rows_is_bounded(demo, monkeypatch):

    monkeypatch.setattr(rows, "MEMO_SIZE", 3)
    tokens = [demo.token(demo.alice, label=f"t{index}")[0] for index in range(5)]
    for token in tokens:
        found = lookup.find(PersonalAccessToken, token.lookup_id)
        assert found is not None and found.label == token.label
    memo = lookup._plans["default"].columns.memo
    assert 0 < len(memo) <= 3


def test_converted_json_is_copied_deeply_for_each_instance():
    from lib.rows import _copied

    value = {"uses": [{"ip": "192.0.2.1", "seen": [1, 2]}], "n": 1, "none": None}
    copied = _copied(value)
    assert copied == value
    copied["uses"][0]["seen"].append(3)
    copied["uses"].append({})
    assert value == {"uses": [{"ip": "192.0.2.1", "seen": [1, 2]}], "n": 1, "none": None}
