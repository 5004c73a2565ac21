"""Rotating TOKEN_PEPPERS on several instances, one restart at a time, as the README describes: at no step does
an instance refuse a token that another instance accepts or has just re-hashed."""

from __future__ import annotations

from django.test.utils import override_settings

from tokens.models import PersonalAccessToken

OLD = ["1:old-key"]
#: Step 1: every instance learns the new key; the old one still hashes.
LEARNING = ["1:old-key", "2:new-key"]
#: Step 2: the new key hashes; rows move to it on their next use.
MOVING = ["2:new-key", "1:old-key"]
#: Step 3: once no row is left under the old key.
NEW = ["2:new-key"]


def _version_after_use(raw: str, peppers: list[str]) -> int:
    with override_settings(TOKEN_PEPPERS=peppers):
        token = PersonalAccessToken.objects.authenticate(raw)
    assert token is not None, peppers
    token.refresh_from_db()
    return token.pepper_version


def test_while_instances_learn_the_new_key_nothing_is_rehashed(demo):
    with override_settings(TOKEN_PEPPERS=OLD):
        _token, raw = demo.token(demo.alice)
    assert _version_after_use(raw, OLD) == 1
    assert _version_after_use(raw, LEARNING) == 1


def test_a_row_rehashed_by_a_moved_instance_works_on_one_still_learning(demo):
    with override_settings(TOKEN_PEPPERS=OLD):
        _token, raw = demo.token(demo.alice)
    assert _version_after_use(raw, MOVING) == 2
    assert _version_after_use(raw, LEARNING) == 2


def test_a_token_made_by_a_moved_instance_works_on_one_still_learning(demo):
    with override_settings(TOKEN_PEPPERS=MOVING):
        _token, raw = demo.token(demo.alice)
    assert _version_after_use(raw, LEARNING) == 2


def test_the_old_key_can_go_once_every_row_has_moved(demo):
    with override_settings(TOKEN_PEPPERS=OLD):
        moved_token, moved = demo.token(demo.alice)
        left, left_behind = demo.token(demo.alice)
    _version_after_use(moved, MOVING)
    assert list(PersonalAccessToken.objects.filter(pepper_version=1).values_list("pk", flat=True)) == [left.pk]
    with override_settings(TOKEN_PEPPERS=NEW):
        assert PersonalAccessToken.objects.authenticate(moved) == moved_token
        assert PersonalAccessToken.objects.authenticate(left_behind) is None
