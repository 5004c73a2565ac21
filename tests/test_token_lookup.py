from __future__ import annotations

from datetime import timedelta

from django.forms.models import model_to_dict

from tokens import lookup
from tokens.models import PersonalAccessToken


def test_prepared_lookup_matches_the_orm_field_for_field(demo, django_assert_num_queries):
    alpha = demo.node("/common/projects/alpha")
    token, raw = demo.token(
        demo.alice, expires_in=timedelta(days=3), refresh_window=timedelta(hours=2), scopes=[f"node:{alpha.uuid}:rw"]
    )
    PersonalAccessToken.objects.authenticate(raw, ip="192.0.2.1", protocol="REST", user_agent="curl")
    with django_assert_num_queries(1):
        found = lookup.find(token.lookup_id)
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
    assert lookup.find("nosuchid0000") is None
