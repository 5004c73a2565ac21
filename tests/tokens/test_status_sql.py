"""``with_status``: each token status as an SQL condition, held to the Python properties it mirrors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from people.models import User
from tests.support.bulk_tokens_support import token_row
from tokens.models import EXPIRING_SOON, IDLE_AFTER, STATUSES, PersonalAccessToken, has_status

BASE = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
DAY = 86_400_000_000  # microseconds


def _µs(value: int) -> timedelta:
    return timedelta(microseconds=value)


# Offsets from the moment looked at: on the rules' edges (to the microsecond) or anywhere within a year.
_edges = st.sampled_from([0, 7 * DAY, 30 * DAY, -30 * DAY]).flatmap(lambda edge: st.integers(edge - 1, edge + 1))
# The edges twice: most tokens sit on one.
_offsets = st.one_of(_edges, _edges, st.integers(-400 * DAY, 400 * DAY))
_windows = st.one_of(st.integers(1, 30), st.integers(1, 400 * DAY))


@st.composite
def _token_fields(draw: st.DrawFn, now: datetime) -> dict[str, object]:
    fields: dict[str, object] = {"created_at": now - _µs(draw(st.integers(0, 400 * DAY)))}
    if draw(st.booleans()):
        window = draw(_windows)
        # Often right at the last tenth of the window, where rounding would show.
        left = draw(st.one_of(_offsets, st.integers(-2, 2).map(lambda jitter: window // 10 + jitter)))
        fields.update(
            expiration_model=PersonalAccessToken.AUTO_REFRESH,
            refresh_window=_µs(window),
            expires_at=now + _µs(left),
            absolute_end=draw(st.none() | _offsets.map(lambda offset: now + _µs(offset))),
        )
    else:
        fields.update(expiration_model=PersonalAccessToken.HARD_LIMIT, expires_at=now + _µs(draw(_offsets)))
    fields["last_used_at"] = draw(st.none() | _offsets.map(lambda offset: now - _µs(abs(offset))))
    # Revoked tokens, with their expiry brought down as revoking does, or left as it was (the conditions must not
    # rely on it).
    revoked_at = draw(st.none() | _offsets.map(lambda offset: now - _µs(abs(offset))))
    if revoked_at is not None:
        fields.update(revoked_at=revoked_at, revoked_how=PersonalAccessToken.DELETED)
        if draw(st.booleans()):
            fields["expires_at"] = revoked_at
    return fields


@pytest.fixture
def owner(db: None) -> User:
    return User.objects.create_user("owner")


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_sql_status_filters_select_exactly_what_the_properties_say(owner: User, data: st.DataObject) -> None:
    now = BASE + _µs(data.draw(st.integers(-DAY, DAY), label="now"))
    specs = data.draw(st.lists(_token_fields(now), min_size=1, max_size=20), label="tokens")
    PersonalAccessToken.objects.all().delete()
    tokens = PersonalAccessToken.objects.bulk_create(token_row(owner, **fields) for fields in specs)
    for status in STATUSES:
        expected = {token.pk for token in tokens if has_status(token, status, now)}
        selected = set(PersonalAccessToken.objects.with_status(status, now=now).values_list("pk", flat=True))
        assert selected == expected, status


def test_every_live_token_is_exactly_one_of_active_and_expiring(owner: User) -> None:
    now = BASE
    born = now - timedelta(days=30)
    PersonalAccessToken.objects.bulk_create(
        [
            token_row(owner, created_at=born, expires_at=now + EXPIRING_SOON),
            token_row(owner, created_at=born, expires_at=now + EXPIRING_SOON + _µs(1)),
            token_row(
                owner,
                created_at=born,
                expiration_model=PersonalAccessToken.AUTO_REFRESH,
                refresh_window=timedelta(days=10),
                expires_at=now + timedelta(days=1),
            ),
        ]
    )
    active = set(PersonalAccessToken.objects.with_status("active", now=now))
    expiring = set(PersonalAccessToken.objects.with_status("expiring", now=now))
    assert len(active) == 1 and len(expiring) == 2 and not active & expiring


def test_idle_starts_at_the_very_instant_thirty_days_after_the_last_use(owner: User) -> None:
    token_row(owner, last_used_at=BASE - IDLE_AFTER).save()
    assert PersonalAccessToken.objects.with_status("idle", now=BASE).count() == 1
    assert PersonalAccessToken.objects.with_status("idle", now=BASE - _µs(1)).count() == 0


def test_an_unknown_status_is_refused() -> None:
    with pytest.raises(KeyError):
        PersonalAccessToken.objects.with_status("dormant", now=BASE)


def test_the_last_tenth_of_a_window_is_exact_to_the_microsecond(owner: User) -> None:
    # A window of 15 µs: its last tenth is 1.5 µs, so 2 µs left is not in it (rounding the tenth would say it is).
    window = _µs(15)
    for left in (1, 2):
        token_row(
            owner,
            expiration_model=PersonalAccessToken.AUTO_REFRESH,
            refresh_window=window,
            expires_at=BASE + _µs(left),
            label=f"{left} left",
        ).save()
    expiring = PersonalAccessToken.objects.with_status("expiring", now=BASE)
    assert [token.label for token in expiring] == ["1 left"]
    assert [token.status_at(BASE) for token in PersonalAccessToken.objects.order_by("label")] == [
        "Expiring soon",
        "Active",
    ]


@pytest.mark.parametrize(
    ("life", "warned"),
    [
        (timedelta(days=7), timedelta(days=7) / 4),  # a week-long token: its last 42 hours, not from birth
        (timedelta(days=1), timedelta(hours=6)),
        (timedelta(hours=1), timedelta(minutes=15)),
        (timedelta(days=365), EXPIRING_SOON),  # a long one: a week ahead
    ],
)
def test_a_token_is_expiring_soon_in_the_last_quarter_of_its_life_at_most_a_week(
    owner: User, life: timedelta, warned: timedelta
) -> None:
    token = token_row(owner, created_at=BASE, expires_at=BASE + life)
    token.save()
    for moment, status in (
        (BASE, "Active"),
        (BASE + life - warned - _µs(1), "Active"),
        (BASE + life - warned, "Expiring soon"),
        (BASE + life - _µs(1), "Expiring soon"),
        (BASE + life, "Expired"),
    ):
        assert token.status_at(moment) == status, (life, moment)
        key = {"Active": "active", "Expiring soon": "expiring", "Expired": "expired"}[status]
        assert PersonalAccessToken.objects.with_status(key, now=moment).get() == token


def test_saving_a_token_keeps_when_it_becomes_expiring_soon_in_step_with_its_end(owner: User) -> None:
    token = token_row(owner, created_at=BASE, expires_at=BASE + timedelta(days=400))
    token.save()
    assert token.expiring_from == BASE + timedelta(days=400) - EXPIRING_SOON
    token.expires_at = BASE + timedelta(days=4)
    token.save(update_fields=["expires_at"])
    token.refresh_from_db()
    assert token.expiring_from == BASE + timedelta(days=3)


def test_a_revoked_token_is_revoked_whatever_its_expiry_says(owner: User) -> None:
    token = token_row(owner, expires_at=BASE + timedelta(days=3), revoked_at=BASE, revoked_how="deleted")
    token.save()
    assert token.status_at(BASE) == "Revoked" and token.is_expired(BASE)
    assert list(PersonalAccessToken.objects.with_status("revoked", now=BASE)) == [token]
    for status in ("active", "expiring", "expired"):
        assert not PersonalAccessToken.objects.with_status(status, now=BASE).exists()
