"""The SQL ERP source: any database SQLAlchemy reaches, read-only (R7; extra ``erp``).

:class:`SqlErpSource` implements :class:`~orderflow.erp.ErpSource` with SQLAlchemy
Core (no ORM). Production is Kingdee K3 WISE on SQL Server
(``mssql+pyodbc://k3_reader@.../AIS2026?driver=ODBC+Driver+18+for+SQL+Server``);
the tests use PostgreSQL and SQLite holding a K3-shaped schema.

The connection is read-only on every layer orderflow controls:

- PostgreSQL: every session starts with ``default_transaction_read_only=on`` and
  every transaction is opened ``READ ONLY`` (the ``postgresql_readonly`` execution
  option); give it a SELECT-only role as well.
- SQLite: ``PRAGMA query_only = ON`` on every connection.
- SQL Server and others: use a login with ``db_datareader`` only (and, on an
  availability group, ``ApplicationIntent=ReadOnly``).

Every read runs in its own short transaction that is rolled back, never committed.
Row filters (a table's ``where``) are rendered by :func:`where_clause` as SQLAlchemy
expressions with bound parameters, never as SQL text.
Table and column names are matched without regard to case; mapped columns the
database lacks are left out of the rows, so the sync quarantines the affected rows
naming the column (run :func:`~orderflow.erp.check_mapping` first to see them all).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from orderflow._extras import require
from orderflow.erp.convert import key_text
from orderflow.erp.documents import ErpRecord
from orderflow.erp.filters import Condition
from orderflow.erp.mapping import ErpMapping, LookupSpec, MappingSpecError
from orderflow.erp.ports import ErpKey
from orderflow.exceptions import InputError

if TYPE_CHECKING:
    import sqlalchemy as sa
else:
    sa = require("sqlalchemy", "erp")

__all__ = ["SqlErpSource", "read_only_engine", "where_clause"]


def read_only_engine(url: str | sa.URL, **options: Any) -> sa.Engine:
    """Create an engine whose connections refuse writes (see the module docstring)."""
    try:
        parsed = sa.make_url(url)
    except sa.exc.ArgumentError as exc:
        raise InputError(f"not an ERP database URL: {exc}") from None
    backend = parsed.get_backend_name()
    try:
        parsed.get_dialect().import_dbapi()
    except ImportError as exc:
        raise InputError(
            f"the {parsed.drivername} driver for the ERP database is not installed "
            f"({exc}); install it (for SQL Server: pip install pyodbc and the Microsoft "
            "ODBC driver, or use mssql+pymssql://) or use another URL"
        ) from None
    except sa.exc.NoSuchModuleError as exc:
        raise InputError(f"unknown ERP database kind in the URL: {exc}") from None
    if backend == "postgresql":
        connect_args = dict(options.pop("connect_args", {}))
        extra = connect_args.get("options", "")
        connect_args["options"] = f"{extra} -c default_transaction_read_only=on".strip()
        engine = sa.create_engine(
            parsed,
            connect_args=connect_args,
            execution_options={"postgresql_readonly": True},
            **options,
        )
    else:
        engine = sa.create_engine(parsed, **options)
    if backend == "sqlite":

        @sa.event.listens_for(engine, "connect")
        def _query_only(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA query_only = ON")
            cursor.close()

    return engine


def where_clause(
    table: sa.TableClause, names: Mapping[str, str], conditions: Sequence[Condition]
) -> list[sa.ColumnElement[bool]]:
    """The conditions as SQLAlchemy expressions with bound parameters (AND them).

    ``names`` maps the mapping's column names to the database's spelling. NULL
    handling follows :class:`~orderflow.erp.Condition`: ``null_as`` becomes
    ``COALESCE(column, value)``; otherwise SQL's own NULL rules apply.
    """
    out: list[sa.ColumnElement[bool]] = []
    for cond in conditions:
        column: sa.ColumnElement[Any] = table.c[names[cond.column]]
        if cond.null_as is not None:
            column = sa.func.coalesce(column, cond.null_as)
        if cond.op == "is null":
            out.append(column.is_(None))
        elif cond.op == "in":
            out.append(column.in_(list(cond.values)))
        elif cond.op == "<>":
            out.append(column != cond.values[0])
        else:
            out.append(column == cond.values[0])
    return out


def _dicts(result: sa.CursorResult[Any]) -> list[dict[str, object]]:
    keys = list(result.keys())
    return [dict(zip(keys, row, strict=True)) for row in result]


class SqlErpSource:
    """Reads ERP documents, code tables and stock through SQLAlchemy Core.

    ``url_or_engine``: a database URL (opened with :func:`read_only_engine`) or an
    engine you built (then read-only is your responsibility). ``schema`` is the
    database schema holding the ERP tables (``dbo`` on SQL Server; ``None``: default).
    """

    def __init__(
        self, url_or_engine: str | sa.URL | sa.Engine, *, schema: str | None = None
    ) -> None:
        if isinstance(url_or_engine, sa.Engine):
            self.engine = url_or_engine
            self._owned = False
        else:
            self.engine = read_only_engine(url_or_engine)
            self._owned = True
        self.db_schema = schema
        self._schema: dict[str, tuple[str, dict[str, str]]] | None = None

    def close(self) -> None:
        """Release the connection pool (only if this source created the engine)."""
        if self._owned:
            self.engine.dispose()

    # -- schema -------------------------------------------------------------------------

    def _reflect(self) -> dict[str, tuple[str, dict[str, str]]]:
        if self._schema is None:
            inspector = sa.inspect(self.engine)
            found: dict[str, tuple[str, dict[str, str]]] = {}
            for name in inspector.get_table_names(schema=self.db_schema):
                cols = inspector.get_columns(name, schema=self.db_schema)
                found[name.lower()] = (name, {c["name"].lower(): c["name"] for c in cols})
            self._schema = found
        return self._schema

    def refresh_schema(self) -> None:
        """Forget the reflected schema (after the ERP's schema changed)."""
        self._schema = None

    def schema(self) -> Mapping[str, frozenset[str]]:
        """Every table in the schema with its column names, as the database spells them."""
        return {name: frozenset(cols.values()) for name, cols in self._reflect().values()}

    def _table(
        self, table: str, columns: Sequence[str], *, required: Sequence[str] = ()
    ) -> tuple[sa.TableClause, dict[str, str]]:
        """A lightweight table with the wanted columns that exist: (table, column -> name)."""
        entry = self._reflect().get(table.lower())
        if entry is None:
            raise MappingSpecError("cannot read the ERP", [f"missing table {table}"])
        actual, cols = entry
        present = {c: cols[c.lower()] for c in dict.fromkeys(columns) if c.lower() in cols}
        lacking = [c for c in required if c not in present]
        if lacking:
            raise MappingSpecError(
                "cannot read the ERP", [f"missing column {table}.{c}" for c in lacking]
            )
        clause = sa.table(actual, *(sa.column(n) for n in present.values()), schema=self.db_schema)
        return clause, present

    # -- ErpSource ------------------------------------------------------------------------

    def read_orders(
        self,
        mapping: ErpMapping,
        *,
        after: ErpKey | None,
        limit: int,
        upto: ErpKey | None = None,
    ) -> Sequence[ErpRecord]:
        """Up to ``limit`` documents with ``after < key <= upto`` and all their lines."""
        h, ln = mapping.header, mapping.lines
        parent = ln.parent or h.key
        hfilter = [c.column for c in h.where]
        head, hcols = self._table(h.table, h.columns, required=[h.key, *hfilter])
        lfilter = [c.column for c in ln.where]
        lines, lcols = self._table(ln.table, ln.columns, required=[parent, ln.key, *lfilter])
        hkey = head.c[hcols[h.key]]
        query = sa.select(*(head.c[n].label(c) for c, n in hcols.items()))
        query = query.where(*where_clause(head, hcols, h.where))
        if after is not None:
            query = query.where(hkey > after)
        if upto is not None:
            query = query.where(hkey <= upto)
        query = query.order_by(hkey).limit(limit)
        with self.engine.connect() as conn:
            headers = _dicts(conn.execute(query))
            if not headers:
                return []
            lkey = lines.c[lcols[parent]]
            lq = sa.select(*(lines.c[n].label(c) for c, n in lcols.items()))
            if after is not None:
                lq = lq.where(lkey > after)
            lq = lq.where(lkey <= headers[-1][h.key], *where_clause(lines, lcols, ln.where))
            lq = lq.order_by(lkey, lines.c[lcols[ln.key]])
            grouped: dict[str, list[dict[str, object]]] = {}
            for data in _dicts(conn.execute(lq)):
                grouped.setdefault(key_text(data[parent]), []).append(data)
            shipped = self._shipments(conn, mapping, after, headers[-1][h.key])
        return [
            ErpRecord(
                r[h.key],
                r,
                tuple(grouped.get(key_text(r[h.key]), ())),
                tuple(shipped.get(key_text(r[h.key]), ())),
            )
            for r in headers
        ]

    def _shipments(
        self, conn: sa.Connection, mapping: ErpMapping, after: ErpKey | None, upto: object
    ) -> dict[str, list[dict[str, object]]]:
        """Bill lines pointing at orders in ``(after, upto]``, from bills passing the filters.

        One join of bill header and bill lines (``FInterID``) per batch, filtered by
        the order link (``FOrderInterID``), not by the bill's source document.
        """
        spec = mapping.shipments
        if spec is None:
            return {}
        bill, bcols = self._table(spec.table, spec.header_columns, required=spec.header_columns)
        entry, ecols = self._table(spec.lines_table, spec.line_columns, required=spec.line_columns)
        order = entry.c[ecols[spec.order_key]]
        query = (
            sa.select(
                bill.c[bcols[spec.key]].label(spec.key),
                bill.c[bcols[spec.date]].label(spec.date),
                bill.c[bcols[spec.red_column]].label(spec.red_column),
                order.label(spec.order_key),
                entry.c[ecols[spec.order_line]].label(spec.order_line),
                entry.c[ecols[spec.qty]].label(spec.qty),
            )
            .select_from(bill.join(entry, entry.c[ecols[spec.parent]] == bill.c[bcols[spec.key]]))
            .where(order <= upto)
            .where(*where_clause(bill, bcols, spec.where))
            .where(*where_clause(entry, ecols, spec.lines_where))
        )
        if after is not None:
            query = query.where(order > after)
        grouped: dict[str, list[dict[str, object]]] = {}
        for data in _dicts(conn.execute(query)):
            grouped.setdefault(key_text(data[spec.order_key]), []).append(data)
        return grouped

    def count_orders(
        self, mapping: ErpMapping, *, after: ErpKey | None, upto: ErpKey | None = None
    ) -> int:
        """How many documents lie in the key range."""
        h = mapping.header
        wanted = [h.key, *(c.column for c in h.where)]
        head, hcols = self._table(h.table, wanted, required=wanted)
        hkey = head.c[hcols[h.key]]
        query = sa.select(sa.func.count()).select_from(head)
        query = query.where(*where_clause(head, hcols, h.where))
        if after is not None:
            query = query.where(hkey > after)
        if upto is not None:
            query = query.where(hkey <= upto)
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar_one())

    def read_lookup(self, lookup: LookupSpec) -> Mapping[str, str]:
        """The code table ``lookup.key`` -> ``lookup.value`` (NULL codes left out)."""
        table, cols = self._table(
            lookup.table, [lookup.key, lookup.value], required=[lookup.key, lookup.value]
        )
        query = sa.select(table.c[cols[lookup.key]], table.c[cols[lookup.value]])
        with self.engine.connect() as conn:
            return {key_text(k): str(v).strip() for k, v in conn.execute(query) if v is not None}

    def read_stock(self, mapping: ErpMapping) -> Sequence[Mapping[str, object]]:
        """Raw on-hand rows: the item, quantity and warehouse columns of the mapping."""
        spec = mapping.stock
        if spec is None:
            return []
        return self._rows(spec.table, spec.columns, spec.where)

    def read_stock_locks(self, mapping: ErpMapping) -> Sequence[Mapping[str, object]]:
        """Rows of stock locked for orders (``[stock.locks]``) that pass its ``where``."""
        if mapping.stock is None or mapping.stock.locks is None:
            return []
        locks = mapping.stock.locks
        return self._rows(locks.table, locks.columns, locks.where)

    def _rows(
        self, table_name: str, columns: Sequence[str], where: Sequence[Condition]
    ) -> list[dict[str, object]]:
        table, cols = self._table(table_name, columns, required=columns)
        query = sa.select(*(table.c[n].label(c) for c, n in cols.items()))
        query = query.where(*where_clause(table, cols, where))
        with self.engine.connect() as conn:
            return _dicts(conn.execute(query))
