"""Check a mapping against the live ERP schema (``orderflow erp check``).

Every missing table and column is reported at once, by name. Names match without
regard to case (SQL Server and most ERP databases compare identifiers that way);
a name that only matches in another case is reported as a note, not a failure.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from orderflow.erp.mapping import ErpMapping, MappingSpecError
from orderflow.erp.ports import ErpSource

__all__ = ["SchemaCheck", "check_mapping", "check_schema"]


@attrs.frozen
class SchemaCheck:
    """The result of checking a mapping against a schema."""

    mapping: str
    missing_tables: tuple[str, ...] = ()
    missing_columns: tuple[tuple[str, str], ...] = ()
    case_notes: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """True when every table and column the mapping reads exists."""
        return not self.missing_tables and not self.missing_columns

    @property
    def problems(self) -> tuple[str, ...]:
        """One line per missing table or column."""
        return (
            *(f"missing table {t}" for t in self.missing_tables),
            *(f"missing column {t}.{c}" for t, c in self.missing_columns),
        )

    def as_dict(self) -> dict[str, Any]:
        """The check as JSON-safe builtins."""
        return {
            "mapping": self.mapping,
            "ok": self.ok,
            "missing_tables": list(self.missing_tables),
            "missing_columns": [f"{t}.{c}" for t, c in self.missing_columns],
            "notes": list(self.case_notes),
        }

    def raise_for_problems(self) -> None:
        """Raise :class:`~orderflow.erp.MappingSpecError` listing every problem, if any."""
        if not self.ok:
            raise MappingSpecError(
                f"ERP mapping {self.mapping!r} does not fit the ERP schema", self.problems
            )


def check_schema(mapping: ErpMapping, schema: Mapping[str, frozenset[str]]) -> SchemaCheck:
    """Check ``mapping`` against a schema given as table -> column names (pure)."""
    tables = {name.lower(): name for name in schema}
    missing_tables: list[str] = []
    missing_columns: list[tuple[str, str]] = []
    notes: list[str] = []
    for table, columns in mapping.required_columns().items():
        actual = tables.get(table.lower())
        if actual is None:
            missing_tables.append(table)
            continue
        if actual != table:
            notes.append(f"table {table} is spelled {actual} in the database")
        have = {c.lower(): c for c in schema[actual]}
        for column in columns:
            found = have.get(column.lower())
            if found is None:
                missing_columns.append((table, column))
            elif found != column:
                notes.append(f"column {table}.{column} is spelled {found} in the database")
    return SchemaCheck(mapping.name, tuple(missing_tables), tuple(missing_columns), tuple(notes))


def check_mapping(source: ErpSource, mapping: ErpMapping) -> SchemaCheck:
    """Check ``mapping`` against the live schema of ``source``."""
    return check_schema(mapping, source.schema())
