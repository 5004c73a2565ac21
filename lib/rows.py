"""SELECTs written once from model metadata, whose rows become model instances as the ORM would make them.

The hottest statements (the token lookup on every request, node resolution, grants) are written by hand: the
ORM's compilation costs more than the query itself. Callers here write the statement once per database alias
from the models' own columns; :class:`Columns` remembers which column belongs to which model and the fields'
own converters (SQLite's text dates, JSON, durations), so that a row turns into instances exactly equal to what
``select_related`` would give.

Converting is most of what a row costs, and the same rows come back request after request (a token on each of
its uses, the folder an upload goes to). So :meth:`Columns.instances` keeps the converted values of the last
few hundred rows it has seen, keyed by the row itself: a row whose every column is the same gives the same
values, and any change in any column is a new key. Each call still makes new instances, with their own copies
of mutable values (JSON lists and dicts); nothing is shared between requests but immutable values.

The few other touches of an instance's ORM state that plain statements need live here too (:func:`attach`,
:func:`mark_saved`, :func:`forget_prefetched`), so that no other module reaches into Django's internals.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime
import decimal
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.signals import setting_changed
from django.db import connections
from django.db.models import Field, Model, signals
from django.db.models.base import ModelState

Converter = Callable[[Any, Any, Any], Any]
#: The converted values of a row, and the indexes of those each instance must get its own copy of.
Converted = tuple[list[Any], list[int]]

#: Rows remembered per statement; past it, the memo starts over.
MEMO_SIZE = 256
_IMMUTABLE = (
    str,
    int,  # and bool
    float,
    bytes,
    type(None),
    datetime.date,  # and datetime
    datetime.time,
    datetime.timedelta,
    uuid.UUID,
    decimal.Decimal,
)
_memos: list[dict[Any, Converted]] = []


@dataclass(frozen=True)
class Columns:
    #: The quoted ``alias.column`` list for the SELECT clause.
    select: str
    #: (model, attribute names) for each model, in column order.
    models: list[tuple[type[Model], list[str]]]
    #: (column index, converters, expression) for the columns that need converting.
    converters: list[tuple[int, list[Converter], Any]]
    #: (alias, row) → its converted values.
    memo: dict[Any, Converted] = dataclasses.field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        _memos.append(self.memo)

    def instances(self, row: Sequence[Any], alias: str) -> list[Model]:
        """One instance per model from ``row``, marked as loaded from the database ``alias``."""
        key: Any = (alias, tuple(row))
        try:
            converted = self.memo.get(key)
        except TypeError:  # an unhashable column (PostgreSQL's memoryview for binary data): no memo
            key, converted = None, None
        if converted is None:
            converted = self._convert(row, alias)
            if key is not None:
                if len(self.memo) >= MEMO_SIZE:
                    self.memo.clear()
                self.memo[key] = converted
        values, mutable = converted
        if mutable:
            values = list(values)
            for index in mutable:
                values[index] = _copied(values[index])
        made: list[Model] = []
        start = 0
        for model, names in self.models:
            made.append(_loaded(model, alias, names, values[start : start + len(names)]))
            start += len(names)
        return made

    def _convert(self, row: Sequence[Any], alias: str) -> Converted:
        connection = connections[alias]
        values = list(row)
        for index, found, expression in self.converters:
            for convert in found:
                values[index] = convert(values[index], expression, connection)
        return values, [index for index, value in enumerate(values) if not isinstance(value, _IMMUTABLE)]


def _copied(value: Any) -> Any:
    """A deep copy of a converted value: JSON's lists and dicts by hand (every token check copies its scopes, and
    ``copy.deepcopy``'s generic machinery costs more than the copy), anything else through ``copy.deepcopy``."""
    if type(value) is list:
        return [item if isinstance(item, _IMMUTABLE) else _copied(item) for item in value]
    if type(value) is dict:
        return {key: item if isinstance(item, _IMMUTABLE) else _copied(item) for key, item in value.items()}
    return copy.deepcopy(value)


def _forget_converted(**kwargs: Any) -> None:
    """Conversions read settings (the database's time zone): a test that changes one starts over."""
    for memo in _memos:
        memo.clear()


setting_changed.connect(_forget_converted)


def _loaded(model: type[Model], alias: str, names: list[str], values: list[Any]) -> Model:
    """``model.from_db(alias, names, values)``, without the generic ``Model.__init__`` where nothing can tell.

    ``__init__`` walks every field to set its value through ``setattr`` and sends ``pre_init``/``post_init``;
    with no listener on those signals, the result is the same instance as filling its ``__dict__`` (how
    unpickling makes one too), at a fraction of the cost on the hottest paths. A field left out of the row is
    deferred either way: absent from ``__dict__``, loaded on first access.
    """
    if model.from_db.__func__ is not Model.from_db.__func__ or (  # type: ignore[attr-defined]
        # Nothing listens to either signal in this project; asking the list is cheaper than asking per model.
        (signals.pre_init.receivers or signals.post_init.receivers)
        and (signals.pre_init.has_listeners(model) or signals.post_init.has_listeners(model))
    ):
        return model.from_db(alias, names, values)
    instance = model.__new__(model)
    instance.__dict__.update(zip(names, values, strict=True))
    state = instance._state = ModelState()
    state.adding = False
    state.db = alias
    return instance


def columns(alias: str, *parts: tuple[type[Model], str, Sequence[Field[Any, Any]] | None]) -> Columns:
    """Columns for (model, table alias in the statement, fields or None for all concrete fields) parts."""
    connection = connections[alias]
    quote = connection.ops.quote_name
    select: list[str] = []
    models: list[tuple[type[Model], list[str]]] = []
    converters: list[tuple[int, list[Converter], Any]] = []
    for model, table_alias, chosen in parts:
        fields = list(chosen) if chosen is not None else list(model._meta.concrete_fields)
        models.append((model, [field.attname for field in fields]))
        for field in fields:
            expression = field.get_col(model._meta.db_table)
            found = connection.ops.get_db_converters(expression) + field.get_db_converters(connection)  # type: ignore[attr-defined]
            if found:
                converters.append((len(select), found, expression))
            select.append(f"{table_alias}.{quote(field.column)}")
    return Columns(select=", ".join(select), models=models, converters=converters)


def column(model: type[Model], name: str) -> str:
    """The database column of ``model``'s concrete field ``name`` (a foreign key's ``…_id``), unquoted."""
    field = model._meta.get_field(name)
    if not isinstance(field, Field) or field.column is None:
        raise TypeError(f"{model.__name__}.{name} has no column")
    return field.column


def attach(instance: Model, name: str, related: Model) -> None:
    """Cache ``related`` as ``instance``'s foreign key ``name``, as ``select_related`` does: no query when it is
    read, and no check (the caller read both rows together)."""
    instance._meta.get_field(name).set_cached_value(instance, related)  # type: ignore[union-attr]


def mark_saved(instance: Model, alias: str) -> None:
    """Record on ``instance`` that its row is now in the database ``alias``, as ``Model.save`` does."""
    instance._state.adding = False
    instance._state.db = alias


def forget_prefetched(instance: Model, name: str) -> None:
    """Drop what ``prefetch_related(name)`` cached on ``instance``, so that the relation is read again."""
    cache = getattr(instance, "_prefetched_objects_cache", None)
    if cache is not None:
        cache.pop(name, None)
