"""``__startswith_exactly``: a prefix match that compares characters exactly, on every database.

Django's ``__startswith`` is ``LIKE`` on SQLite, which ignores ASCII case: ``/Projects/`` would match
``/projects/``. A subtree selected that way reaches into a case twin's subtree (``Docs`` beside ``docs``), so
moves, deletes and copies would touch nodes nobody named and scopes would leak. Paths and lock roots are
compared with this lookup instead:

- SQLite: ``GLOB``, which is case-sensitive and, on a column of the default BINARY collation, can still use an
  index on the column as ``LIKE`` can (``*``, ``?`` and ``[`` in the prefix are bracketed to stand for
  themselves);
- PostgreSQL: ``starts_with()``, exact under the database's deterministic collation;
- anything else: ``SUBSTR(column, 1, LENGTH(prefix)) = prefix``.

Only a plain string is accepted as the prefix.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Lookup
from django.db.models.sql.compiler import SQLCompiler

if TYPE_CHECKING:
    _TextLookup = Lookup[str]
else:  # generic in django-stubs only
    _TextLookup = Lookup

_GLOB_SPECIAL = str.maketrans({"*": "[*]", "?": "[?]", "[": "[[]"})


class StartsWithExactly(_TextLookup):
    lookup_name = "startswith_exactly"

    def get_prep_lookup(self) -> Any:
        if not isinstance(self.rhs, str):
            raise TypeError("__startswith_exactly takes a plain string")
        return self.rhs

    def _sides(self, compiler: SQLCompiler, connection: BaseDatabaseWrapper) -> tuple[str, list[Any]]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        return lhs, list(lhs_params)

    def as_sql(self, compiler: SQLCompiler, connection: BaseDatabaseWrapper) -> tuple[str, list[Any]]:
        lhs, params = self._sides(compiler, connection)
        return f"SUBSTR({lhs}, 1, LENGTH(%s)) = %s", [*params, self.rhs, self.rhs]

    def as_sqlite(self, compiler: SQLCompiler, connection: BaseDatabaseWrapper) -> tuple[str, list[Any]]:
        lhs, params = self._sides(compiler, connection)
        return f"{lhs} GLOB %s", [*params, self.rhs.translate(_GLOB_SPECIAL) + "*"]

    def as_postgresql(self, compiler: SQLCompiler, connection: BaseDatabaseWrapper) -> tuple[str, list[Any]]:
        lhs, params = self._sides(compiler, connection)
        return f"starts_with({lhs}, %s)", [*params, self.rhs]
