"""The SQLAlchemy ERP source on K3-shaped SQLite and PostgreSQL databases (R7)."""

from __future__ import annotations

import datetime as dt
import importlib
import secrets
import sys
from decimal import Decimal

import pytest
import sqlalchemy as sa

from orderflow.adapters.erp_sql import SqlErpSource, read_only_engine
from orderflow.erp import ErpMapping, ErpSource, check_mapping, erp_stock, sync_once
from orderflow.exceptions import MissingExtra
from orderflow.testing.erp_fakes import InMemoryErpStore
from orderflow.testing.k3_fixture import SEAL_RING, K3Writer, k3_header, k3_line, populate_k3

from .conftest import postgres_url


def _exercise(source: SqlErpSource, writer: K3Writer, k3: ErpMapping) -> None:
    """The same end-to-end story on any database."""
    assert isinstance(source, ErpSource)
    assert check_mapping(source, k3).ok
    store = InMemoryErpStore()
    first = sync_once(source, store, k3, batch_size=40)
    assert first.imported == 120 and first.quarantined == 0
    assert first.cancelled == sum(1 for o in store.orders.values() if o.stage == "cancelled")
    order = store.orders[store.by_erp_id["1001"]]
    assert order.number.startswith("HY20260105-1001")
    assert len(order.lines) == 3 and all(isinstance(ln.qty, Decimal) for ln in order.lines)
    # idempotent
    again = sync_once(source, store, k3, batch_size=40)
    assert (again.imported, again.updated, again.unchanged) == (0, 0, 120)
    # ERP users at work: a new order, a bad order, an edited line
    top = writer.next_interid()
    writer.insert_order(
        k3_header(top, FDate=dt.datetime(2026, 1, 22, 9), FCustID=1),
        [k3_line(top, 1, 10_001, Decimal("2.5"), Decimal("19.90"), dt.datetime(2026, 2, 1))],
    )
    writer.insert_order(
        k3_header(top + 1, FBillNo="SEORD-BAD", FDate=dt.datetime(2026, 1, 22, 9), FCustID=4242),
        [
            k3_line(
                top + 1,
                1,
                10_001,
                Decimal(-3),
                Decimal(1),
                dt.datetime(2026, 2, 1),
                FAllStdAmount=Decimal(0),
                FAuxQty=Decimal(1),
            )
        ],
    )
    writer.update_line(1001, 2, FQty=Decimal(777), FAuxQty=Decimal(777))
    report = sync_once(source, store, k3, batch_size=40)
    assert (report.imported, report.updated, report.quarantined) == (1, 1, 1)
    (bad,) = store.quarantined(k3.stream)
    assert {(e["table"], e["column"]) for e in bad.errors} == {
        ("SEOrder", "FCustID"),
        ("SEOrderEntry", "FQty"),
    }
    assert store.orders[store.by_erp_id[str(top)]].lines[0].qty == Decimal("2.5")
    update = store.audit[-1]
    assert update.type == "field_update" and update.changes[0][0] == "lines[1].qty"
    assert update.changes[0][2] == "777"
    counted = erp_stock(source, k3)
    totals, unreadable = counted.totals, counted.unreadable
    assert totals[SEAL_RING] == 200 and not unreadable


def test_sqlite_source_end_to_end(sqlite_engine: sa.Engine, k3: ErpMapping) -> None:
    populate_k3(sqlite_engine, orders=120, seed=3, stock={SEAL_RING: Decimal(200)})
    source = SqlErpSource(str(sqlite_engine.url))
    try:
        _exercise(source, K3Writer(sqlite_engine), k3)
    finally:
        source.close()


def test_sqlite_connection_refuses_writes(sqlite_engine: sa.Engine) -> None:
    populate_k3(sqlite_engine, orders=1)
    source = SqlErpSource(str(sqlite_engine.url))
    with (
        source.engine.connect() as conn,
        pytest.raises(sa.exc.OperationalError, match="readonly database"),
    ):
        conn.execute(sa.text('DELETE FROM "SEOrder"'))
    source.close()


def test_missing_column_is_reported_and_quarantined(
    sqlite_engine: sa.Engine, k3: ErpMapping
) -> None:
    populate_k3(sqlite_engine, orders=5)
    with sqlite_engine.begin() as conn:
        conn.execute(sa.text('ALTER TABLE "SEOrderEntry" DROP COLUMN "FAuxPrice"'))
    source = SqlErpSource(str(sqlite_engine.url))
    result = check_mapping(source, k3)
    assert result.problems == ("missing column SEOrderEntry.FAuxPrice",)
    store = InMemoryErpStore()
    report = sync_once(source, store, k3)
    assert report.quarantined == 5 and not store.orders
    entry = store.quarantined(k3.stream)[0]
    assert entry.message.splitlines()[0] == (
        "SEOrderEntry row 'FInterID=1001/FEntryID=1', column FAuxPrice: "
        "column is missing from the ERP row"
    )
    source.close()


def test_without_the_extra_the_error_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "sqlalchemy", None)
    monkeypatch.delitem(sys.modules, "orderflow.adapters.erp_sql")
    with pytest.raises(MissingExtra, match=r'pip install "orderflow\[erp\]"'):
        importlib.import_module("orderflow.adapters.erp_sql")
    monkeypatch.undo()
    importlib.import_module("orderflow.adapters.erp_sql")


@pytest.mark.postgres
def test_postgres_source_end_to_end(pg_admin: sa.Engine, pg_schema: str, k3: ErpMapping) -> None:
    populate_k3(pg_admin, orders=120, seed=3, schema=pg_schema, stock={SEAL_RING: Decimal(200)})
    source = SqlErpSource(postgres_url(), schema=pg_schema)
    try:
        _exercise(source, K3Writer(pg_admin, schema=pg_schema), k3)
    finally:
        source.close()


@pytest.mark.postgres
def test_postgres_read_only_role_cannot_write(
    pg_admin: sa.Engine, pg_schema: str, k3: ErpMapping
) -> None:
    populate_k3(pg_admin, orders=3, schema=pg_schema)
    role = f"k3_reader_{secrets.token_hex(4)}"
    with pg_admin.begin() as conn:
        conn.execute(sa.text(f'CREATE ROLE "{role}" LOGIN'))
        conn.execute(sa.text(f'GRANT USAGE ON SCHEMA "{pg_schema}" TO "{role}"'))
        conn.execute(sa.text(f'GRANT SELECT ON ALL TABLES IN SCHEMA "{pg_schema}" TO "{role}"'))
    url = sa.make_url(postgres_url()).set(username=role, password=None)
    source = SqlErpSource(url, schema=pg_schema)
    try:
        assert sync_once(source, InMemoryErpStore(), k3).imported == 3
        with source.engine.connect() as conn:
            assert conn.execute(sa.text("SHOW transaction_read_only")).scalar() == "on"
            with pytest.raises(sa.exc.DBAPIError, match="read-only transaction"):
                conn.execute(sa.text(f'DELETE FROM "{pg_schema}"."SEOrder"'))
        # even a transaction switched back to READ WRITE is refused: SELECT-only role
        raw = read_only_engine(url)
        with raw.connect() as conn:
            conn.execute(sa.text("SET TRANSACTION READ WRITE"))
            with pytest.raises(sa.exc.ProgrammingError, match="permission denied"):
                conn.execute(sa.text(f'UPDATE "{pg_schema}"."SEOrder" SET "FStatus" = 3'))
        raw.dispose()
    finally:
        source.close()
        with pg_admin.begin() as conn:
            conn.execute(sa.text(f'DROP OWNED BY "{role}"'))
            conn.execute(sa.text(f'DROP ROLE "{role}"'))
