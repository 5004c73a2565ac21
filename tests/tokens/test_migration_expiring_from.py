"""Migration 0008 fills in when the tokens that exist become "Expiring soon", by the rule ``issue`` now applies."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.support.migrations import historical_token, migrate
from tokens.models import PersonalAccessToken, expiring_from

BEFORE = [("tokens", "0007_address_lockout")]
AFTER = [("tokens", "0008_revocation_and_expiring_from")]
BORN = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.mark.django_db(transaction=True)
def test_existing_tokens_get_the_moment_they_become_expiring_soon(django_user_model):
    owner = django_user_model.objects.create_user("old")
    apps = migrate(BEFORE)
    rows = {
        "week": ("hard", BORN + timedelta(days=7), None),
        "year": ("hard", BORN + timedelta(days=365), None),
        "auto": ("auto", BORN + timedelta(hours=1), BORN + timedelta(days=20)),
        "auto without end": ("auto", BORN + timedelta(hours=1), None),
    }
    for label, (model, expires_at, absolute_end) in rows.items():
        historical_token(
            apps,
            owner.pk,
            label,
            expiration_model=model,
            expires_at=expires_at,
            absolute_end=absolute_end,
            refresh_window=timedelta(hours=1) if model == "auto" else None,
            created_at=BORN,
        )
    migrate(AFTER)
    migrate()
    found = {token.label: token for token in PersonalAccessToken.objects.all()}
    assert found["week"].expiring_from == BORN + timedelta(days=7) - timedelta(days=7) / 4
    assert found["year"].expiring_from == BORN + timedelta(days=358)
    assert found["auto"].expiring_from == expiring_from(BORN + timedelta(days=20), BORN) == BORN + timedelta(days=15)
    assert found["auto without end"].expiring_from is None
    assert {token.revoked_at for token in found.values()} == {None}
