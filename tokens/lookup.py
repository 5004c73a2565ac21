"""The token lookup on every authenticated request: one indexed statement, prepared once per database.

Every request pays for it, and the ORM's compilation of that SELECT costs more than the query. So the statement
is written once per database alias from the models' metadata (table and column names from ``_meta``, values
converted by ``lib.rows``), and its row becomes the token with its owner attached, exactly as
``select_related("owner")`` would give them. This is the token domain's one plain statement;
``tests/tokens/test_lookup_sql.py`` compares its answer with the ORM's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import connections

from lib.rows import Columns, attach, column, columns
from people.models import User

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
_TOKEN_DEFERRED = frozenset({"created_at", "created_by_id", "created_via", "recent_uses", "reminders_sent"})
_USER_DEFERRED = frozenset({"password", "last_login", "date_joined"})


def _plan(model: type[PersonalAccessToken], alias: str) -> _Plan:
    quote = connections[alias].ops.quote_name
    token_fields = [f for f in model._meta.concrete_fields if f.attname not in _TOKEN_DEFERRED]
    user_fields = [f for f in User._meta.concrete_fields if f.attname not in _USER_DEFERRED]
    selected = columns(alias, (model, "t", token_fields), (User, "u", user_fields))
    # Names come from model metadata; the one value is a parameter.
    owner, lookup_id = quote(column(model, "owner")), quote(column(model, "lookup_id"))
    sql = (
        f"SELECT {selected.select} FROM {quote(model._meta.db_table)} t "
        f"INNER JOIN {quote(User._meta.db_table)} u ON u.{quote(User._meta.pk.column)} = t.{owner} "
        f"WHERE t.{lookup_id} = %(lookup_id)s"
    )
    return _Plan(sql=sql, columns=selected)


def find(model: type[PersonalAccessToken], lookup_id: str, alias: str = "default") -> PersonalAccessToken | None:
    """The token row with this public id and its owner, in one statement; None if there is none. ``model`` is
    the token model (its manager asks: the model's module imports this one)."""
    plan = _plans.get(alias)
    if plan is None:
        plan = _plans[alias] = _plan(model, alias)
    with connections[alias].cursor() as cursor:
        # A named parameter: Django's SQLite cursor then fills it in with one % rather than a regular expression
        # over the whole statement.
        cursor.execute(plan.sql, {"lookup_id": lookup_id})
        row = cursor.fetchone()
    if row is None:
        return None
    token, owner = plan.columns.instances(row, alias)
    assert isinstance(token, model)
    attach(token, "owner", owner)
    return token
