"""The token lookup on every authenticated request: one indexed statement, prepared once per database.

Every request pays for it, and the ORM's compilation of that SELECT costs more than the query. So the statement
is written once per database alias from the models' metadata (table and column names from ``_meta``, values
converted by ``lib.rows``), and its row becomes the token with its owner attached, exactly as
``select_related("owner")`` would give them. This is the token domain's one plain statement;
``tests/tokens/test_lookup_sql.py`` compares its answer with the ORM's.

The same statement reads whether the client's address is locked out (``tokens.throttle.AddressLockout``), so
that a request with a good token makes this one round trip and no other.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import connections

from lib.rows import Columns, attach, column, columns
from people.models import User
from tokens.throttle import AddressLockout

if TYPE_CHECKING:
    from tokens.models import PersonalAccessToken


@dataclass(frozen=True)
class _Plan:
    sql: str
    columns: Columns


_plans: dict[str, _Plan] = {}
# Columns no request needs from its token or user, left deferred (loaded on first access, as with .defer()):
# converting them (dates, JSON) would cost every token check. The recent uses are read when the throttled
# last-use write adds one, at most about once a minute.
_TOKEN_DEFERRED = frozenset(
    {"created_at", "created_by_id", "created_via", "recent_uses", "reminders_sent", "expiring_from", "revoked_how"}
)
_USER_DEFERRED = frozenset({"password", "last_login", "date_joined"})


def _plan(model: type[PersonalAccessToken], alias: str) -> _Plan:
    quote = connections[alias].ops.quote_name
    token_fields = [f for f in model._meta.concrete_fields if f.attname not in _TOKEN_DEFERRED]
    user_fields = [f for f in User._meta.concrete_fields if f.attname not in _USER_DEFERRED]
    selected = columns(alias, (model, "t", token_fields), (User, "u", user_fields))
    # Names come from model metadata; the values are parameters.
    owner, lookup_id = quote(column(model, "owner")), quote(column(model, "lookup_id"))
    address, locked_until = quote(column(AddressLockout, "address")), quote(column(AddressLockout, "locked_until"))
    lockout = (
        f"(SELECT l.{locked_until} FROM {quote(AddressLockout._meta.db_table)} l "
        f"WHERE l.{address} = %(address)s AND l.{locked_until} > %(now)s)"
    )
    sql = (
        f"SELECT {selected.select}, {lockout} FROM {quote(model._meta.db_table)} t "
        f"INNER JOIN {quote(User._meta.db_table)} u ON u.{quote(User._meta.pk.column)} = t.{owner} "
        f"WHERE t.{lookup_id} = %(lookup_id)s"
    )
    return _Plan(sql=sql, columns=selected)


@dataclass(frozen=True)
class Found:
    """What the lookup read: the token (None: no row has this public id) and, when the token was found and the
    client's address is locked out now, when that lockout ends (seconds since 1970)."""

    token: PersonalAccessToken | None
    address_locked_until: int | None = None


def find_for(model: type[PersonalAccessToken], lookup_id: str, *, address: str | None, alias: str) -> Found:
    """The token row with this public id and its owner, and the lockout of ``address``, in one statement.
    ``model`` is the token model (its manager asks: the model's module imports this one)."""
    plan = _plans.get(alias)
    if plan is None:
        plan = _plans[alias] = _plan(model, alias)
    with connections[alias].cursor() as cursor:
        # Named parameters: Django's SQLite cursor then fills them in with one % rather than a regular expression
        # over the whole statement.
        cursor.execute(plan.sql, {"lookup_id": lookup_id, "address": address, "now": int(time.time())})
        row = cursor.fetchone()
    if row is None:
        return Found(token=None)
    token, owner = plan.columns.instances(row[:-1], alias)
    assert isinstance(token, model)
    attach(token, "owner", owner)
    return Found(token=token, address_locked_until=row[-1])


def find(model: type[PersonalAccessToken], lookup_id: str, alias: str = "default") -> PersonalAccessToken | None:
    """The token row with this public id and its owner, in one statement; None if there is none."""
    return find_for(model, lookup_id, address=None, alias=alias).token
