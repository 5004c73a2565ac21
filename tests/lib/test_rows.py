"""``lib.rows``: instances made from rows (the token lookup's, ``tests/tokens/test_token_lookup.py``), through a
memo of converted rows that stays bounded and shares no mutable value between instances."""

from __future__ import annotations

from typing import Any

from django.db import connection

from lib import rows
from tokens.models import PersonalAccessToken


def _row(selected: rows.Columns, token: PersonalAccessToken) -> tuple[Any, ...]:
    """The token's row, every column, as ``selected`` lists them."""
    quote = connection.ops.quote_name
    table, key = quote(PersonalAccessToken._meta.db_table), quote("lookup_id")
    with connection.cursor() as cursor:
        # Names from model metadata; the one value is a parameter.
        cursor.execute(f"SELECT {selected.select} FROM {table} t WHERE t.{key} = %s", [token.lookup_id])  # noqa: S608
        row = cursor.fetchone()
    assert row is not None
    return tuple(row)


def _token_columns() -> rows.Columns:
    return rows.columns("default", (PersonalAccessToken, "t", None))


def test_the_memo_of_converted_rows_is_bounded(demo, monkeypatch):
    monkeypatch.setattr(rows, "MEMO_SIZE", 3)
    selected = _token_columns()
    tokens = [demo.token(demo.alice, label=f"t{index}")[0] for index in range(5)]
    for token in tokens * 2:
        (made,) = selected.instances(_row(selected, token), "default")
        assert isinstance(made, PersonalAccessToken) and (made.pk, made.label) == (token.pk, token.label)
    assert 0 < len(selected.memo) <= 3


def test_converted_json_is_copied_deeply_for_each_instance(demo):
    value = [{"ip": "192.0.2.1", "seen": [1, 2], "n": 1, "none": None}]
    token, _raw = demo.token(demo.alice)
    PersonalAccessToken.objects.filter(pk=token.pk).update(recent_uses=value)
    selected = _token_columns()
    row = _row(selected, token)
    (first,) = selected.instances(row, "default")
    assert isinstance(first, PersonalAccessToken) and first.recent_uses == value
    first.recent_uses[0]["seen"].append(3)
    first.recent_uses.append({})
    (second,) = selected.instances(row, "default")  # the same row again: from the memo
    assert isinstance(second, PersonalAccessToken)
    assert second.recent_uses == [{"ip": "192.0.2.1", "seen": [1, 2], "n": 1, "none": None}]
