"""Fields the source does not know keep the type they first arrived with.

dlt's schema contract (`data_type: freeze`) refuses a value its column cannot take, but it
refuses the whole load. This check runs at extract, per row, with dlt's own coercion rules:
a row whose unknown field dlt could not coerce to its column's type (from the stored schema,
or from the first row of this run that had the field) is rejected on its own. dlt's freeze
stays on behind it as the last line.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import dlt
from dlt.common.data_types.type_helpers import coerce_value, py_type_to_sc_type
from dlt.common.schema import Schema

from .exceptions import BadRowError
from .settings import Table
from .transforms import Row


class UnknownFieldTypes:
    """The column type of every unknown field of one table; `check` raises `BadRowError`."""

    def __init__(self, table: Table, schema: Schema | None) -> None:
        self.table = table
        self._normalize = schema.naming.normalize_identifier if schema else str.lower
        columns = schema.tables.get(table.name, {}).get("columns", {}) if schema else {}
        self._types: dict[str, str] = {name: str(column["data_type"])
                                        for name, column in columns.items()
                                        if column.get("data_type")}
        self._lock = threading.Lock()

    def check(self, row: Row) -> None:
        """Raises `BadRowError` for a value its column cannot take; renames (in place) an
        unknown field whose column name collides with another field's (`Status` beside
        `status` -> `status_2`), which dlt would otherwise overwrite silently."""
        self._separate_collisions(row)
        for name, value in row.items():
            if value is None or name in self.table.fields:
                continue
            arrived = py_type_to_sc_type(type(value))
            with self._lock:
                column = self._types.setdefault(self._normalize(name), arrived)
            if column != arrived and not _coerces(column, arrived, value):
                raise BadRowError(
                    f"LiveAgent sent '{name}' of {self.table.name} as {arrived} "
                    f"({_preview(value)}) where the column holds {column}"
                )


    def _separate_collisions(self, row: Row) -> None:
        # a name already in column form keeps it; the others in name order, so every row
        # separates the same way
        unknown = sorted((name for name in row if name not in self.table.fields),
                         key=lambda name: (self._normalize(name) != name, name))
        if not unknown:
            return
        taken = {self._normalize(name) for name in row if name in self.table.fields}
        for name in unknown:
            column, number = self._normalize(name), 1
            new_name = name
            while column in taken:
                number += 1
                new_name = f"{name}_{number}"
                column = self._normalize(new_name)
            taken.add(column)
            if new_name != name:
                row[new_name] = row.pop(name)


def _coerces(column: str, arrived: str, value: Any) -> bool:
    try:
        coerce_value(column, arrived, value)  # type: ignore[arg-type]
    except (TypeError, ValueError, ArithmeticError):
        return False
    return True


def _preview(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


class Contracts:
    """One `UnknownFieldTypes` per table, made on first use during extract: only then is the
    pipeline's stored schema (with the columns of earlier runs) the current one."""

    def __init__(self) -> None:
        self._tables: dict[str, UnknownFieldTypes] = {}
        self._lock = threading.Lock()

    def check(self, table: Table) -> Callable[[Row], None]:
        with self._lock:
            if table.name not in self._tables:
                self._tables[table.name] = UnknownFieldTypes(table, _current_schema())
            return self._tables[table.name].check


def _current_schema() -> Schema | None:
    try:
        return dlt.current.source_schema()
    except Exception:  # outside an extract (unit tests): only this run's rows count
        return None
