"""An ERP database in memory, for tests and examples (R7).

:class:`InMemoryErpSource` implements :class:`~orderflow.erp.ErpSource` over
dictionaries of rows and applies a mapping's row filters (``where``) with the same
rules the SQL source renders (:class:`~orderflow.erp.Condition`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal

from orderflow.erp.convert import key_text
from orderflow.erp.documents import ErpRecord
from orderflow.erp.filters import Condition, row_matches
from orderflow.erp.mapping import ErpMapping, LookupSpec
from orderflow.erp.ports import ErpKey

__all__ = ["InMemoryErpSource"]


def _sort_key(value: object) -> tuple[int, Decimal | str]:
    text = key_text(value)
    try:
        return (0, Decimal(text))
    except ArithmeticError:
        return (1, text)


class InMemoryErpSource:
    """An ERP database in memory: ``tables`` maps a table name to its rows.

    Rows are plain dicts (column -> value); ``columns`` declares the columns of tables
    (needed for empty ones: :meth:`schema` otherwise derives them from the rows).
    ``dropped_columns`` hides columns from
    reads and from :meth:`schema` (to simulate a schema that lacks a mapped column).
    """

    def __init__(
        self,
        tables: Mapping[str, Iterable[Mapping[str, object]]] | None = None,
        columns: Mapping[str, Iterable[str]] | None = None,
    ) -> None:
        self.tables: dict[str, list[dict[str, object]]] = {
            name: [dict(r) for r in rows] for name, rows in (tables or {}).items()
        }
        self.columns: dict[str, set[str]] = {
            name: {c for r in rows for c in r} for name, rows in self.tables.items()
        }
        for name, cols in (columns or {}).items():
            self.columns.setdefault(name, set()).update(cols)
            self.tables.setdefault(name, [])
        self.dropped_columns: set[tuple[str, str]] = set()
        self.reads = 0

    # -- ErpSource --------------------------------------------------------------------

    def schema(self) -> Mapping[str, frozenset[str]]:
        """Every table with its columns (minus dropped ones)."""
        return {
            t: frozenset(c for c in cols if (t, c) not in self.dropped_columns)
            for t, cols in self.columns.items()
        }

    def _visible(self, table: str, row: Mapping[str, object]) -> dict[str, object]:
        return {c: v for c, v in row.items() if (table, c) not in self.dropped_columns}

    def _headers(
        self, mapping: ErpMapping, after: ErpKey | None, upto: ErpKey | None
    ) -> list[dict[str, object]]:
        key = mapping.header.key
        low = None if after is None else _sort_key(after)
        high = None if upto is None else _sort_key(upto)
        rows = [
            r
            for r in self.tables.get(mapping.header.table, [])
            if (low is None or _sort_key(r[key]) > low)
            and (high is None or _sort_key(r[key]) <= high)
            and row_matches(mapping.header.where, r)
        ]
        rows.sort(key=lambda r: _sort_key(r[key]))
        return rows

    def read_orders(
        self,
        mapping: ErpMapping,
        *,
        after: ErpKey | None,
        limit: int,
        upto: ErpKey | None = None,
    ) -> Sequence[ErpRecord]:
        """Documents with ``after < key <= upto``, ascending, with their lines."""
        self.reads += 1
        headers = self._headers(mapping, after, upto)[:limit]
        wanted = {key_text(h[mapping.header.key]) for h in headers}
        lines: dict[str, list[dict[str, object]]] = {}
        parent = mapping.lines.parent or mapping.header.key
        for row in self.tables.get(mapping.lines.table, []):
            k = key_text(row.get(parent))
            if k in wanted and row_matches(mapping.lines.where, row):
                lines.setdefault(k, []).append(self._visible(mapping.lines.table, row))
        shipped = self._shipments(mapping, wanted)
        return [
            ErpRecord(
                h[mapping.header.key],
                self._visible(mapping.header.table, h),
                tuple(lines.get(key_text(h[mapping.header.key]), [])),
                tuple(shipped.get(key_text(h[mapping.header.key]), [])),
            )
            for h in headers
        ]

    def _shipments(
        self, mapping: ErpMapping, wanted: set[str]
    ) -> dict[str, list[dict[str, object]]]:
        """Bill lines pointing at the wanted documents, from bills passing the filters."""
        spec = mapping.shipments
        if spec is None:
            return {}
        bills = {
            key_text(b.get(spec.key)): b
            for b in self.tables.get(spec.table, [])
            if row_matches(spec.where, b)
        }
        out: dict[str, list[dict[str, object]]] = {}
        for row in self.tables.get(spec.lines_table, []):
            order = key_text(row.get(spec.order_key))
            bill = bills.get(key_text(row.get(spec.parent)))
            if order not in wanted or bill is None or not row_matches(spec.lines_where, row):
                continue
            out.setdefault(order, []).append(
                {
                    spec.key: bill.get(spec.key),
                    spec.date: bill.get(spec.date),
                    spec.red_column: bill.get(spec.red_column),
                    spec.order_key: row.get(spec.order_key),
                    spec.order_line: row.get(spec.order_line),
                    spec.qty: row.get(spec.qty),
                }
            )
        return out

    def count_orders(
        self, mapping: ErpMapping, *, after: ErpKey | None, upto: ErpKey | None = None
    ) -> int:
        """How many documents lie in the key range."""
        return len(self._headers(mapping, after, upto))

    def read_lookup(self, lookup: LookupSpec) -> Mapping[str, str]:
        """The code table ``lookup.key`` -> ``lookup.value``."""
        return {
            key_text(r[lookup.key]): str(r[lookup.value])
            for r in self.tables.get(lookup.table, [])
            if r.get(lookup.value) is not None
        }

    def read_stock(self, mapping: ErpMapping) -> Sequence[Mapping[str, object]]:
        """The raw rows of the mapping's stock table that pass its ``where``."""
        if mapping.stock is None:
            return []
        return self._filtered(mapping.stock.table, mapping.stock.where)

    def read_stock_locks(self, mapping: ErpMapping) -> Sequence[Mapping[str, object]]:
        """The raw rows of the mapping's lock table that pass its ``where``."""
        if mapping.stock is None or mapping.stock.locks is None:
            return []
        return self._filtered(mapping.stock.locks.table, mapping.stock.locks.where)

    def _filtered(self, table: str, where: Iterable[Condition]) -> list[dict[str, object]]:
        conditions = tuple(where)
        return [
            self._visible(table, r)
            for r in self.tables.get(table, [])
            if row_matches(conditions, r)
        ]

    # -- editing, as an ERP user would --------------------------------------------------

    def insert(self, table: str, row: Mapping[str, object]) -> None:
        """Append a row to ``table`` (created if new)."""
        self.tables.setdefault(table, []).append(dict(row))
        self.columns.setdefault(table, set()).update(row)

    def update(self, table: str, where: Mapping[str, object], **values: object) -> int:
        """Set ``values`` on every row matching ``where``; return how many matched."""
        count = 0
        for row in self.tables.get(table, []):
            if all(key_text(row.get(c)) == key_text(v) for c, v in where.items()):
                row.update(values)
                count += 1
        self.columns.setdefault(table, set()).update(values)
        return count

    def delete(self, table: str, where: Mapping[str, object]) -> int:
        """Remove every row matching ``where``; return how many were removed."""
        rows = self.tables.get(table, [])
        keep = [
            r for r in rows if not all(key_text(r.get(c)) == key_text(v) for c, v in where.items())
        ]
        self.tables[table] = keep
        return len(rows) - len(keep)
