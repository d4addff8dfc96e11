"""Invariants of the K3 rules, for any data (R7).

- each K3 order is imported once, whatever change-history rows K3 keeps beside it and
  however the sync is batched;
- a row filter means the same in SQL (SQLAlchemy, SQLite) as in Python;
- shipped = sum(outbound) - sum(returns); a line has a delivery date exactly when it
  is covered, and that date is an outbound bill's.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from orderflow.adapters.erp_sql import where_clause
from orderflow.erp import Condition, ShipmentMove, line_deliveries, load_preset, sync_once
from orderflow.testing.erp_fakes import InMemoryErpStore
from orderflow.testing.k3_fixture import k3_header

from .helpers import k3_source, line

K3 = load_preset("kingdee-k3-wise")

# per order: how many change-history copies, and which of K3's two marks each carries
copies_st = st.lists(
    st.lists(st.sampled_from(["mark", "class", "both"]), max_size=3), min_size=1, max_size=8
)


@settings(max_examples=40, deadline=None)
@given(copies=copies_st, batch=st.integers(1, 5))
def test_each_k3_order_is_imported_once_whatever_change_rows_exist(
    copies: list[list[str]], batch: int
) -> None:
    src = k3_source()
    key = 1001
    bills: list[str] = []
    for n, marks in enumerate(copies):
        bill = f"SEORD{n:06d}"
        bills.append(bill)
        src.insert("SEOrder", k3_header(key, FBillNo=bill, FCustID=1))
        src.insert("SEOrderEntry", line(key, 1, FQty=Decimal(n + 1)))
        key += 1
        for mark in marks:  # K3's copies of earlier versions, with their own FInterID
            extra = {"FChangeMark": 1} if mark != "class" else {}
            if mark != "mark":
                extra["FClassTypeID"] = 1007100
            src.insert("SEOrder", k3_header(key, FBillNo=bill, FCustID=1, **extra))
            src.insert("SEOrderEntry", line(key, 1, FQty=Decimal(999)))
            key += 1
    store = InMemoryErpStore()
    report = sync_once(src, store, K3, batch_size=batch)
    assert report.imported == len(copies)
    assert sorted(o.erp_number for o in store.orders.values()) == bills
    assert sorted(o.lines[0].qty for o in store.orders.values()) == [
        Decimal(n + 1) for n in range(len(copies))
    ]
    assert sync_once(src, store, K3, batch_size=batch).changed == 0


value_st = st.none() | st.integers(-2, 3)
cond_st = st.one_of(
    st.builds(
        lambda op, v, n: Condition("a", op, (v,), n),
        st.sampled_from(["=", "<>"]),
        st.integers(-2, 3),
        st.none() | st.integers(-2, 3),
    ),
    st.builds(
        lambda vs, n: Condition("a", "in", tuple(vs), n),
        st.lists(st.integers(-2, 3), min_size=1, max_size=3),
        st.none() | st.integers(-2, 3),
    ),
    st.just(Condition("a", "is null")),
)
ENGINE = sa.create_engine("sqlite://")
TABLE = sa.table("t", sa.column("a"))
with ENGINE.begin() as _conn:
    _conn.execute(sa.text("CREATE TABLE t (a INTEGER)"))


@settings(max_examples=60, deadline=None)
@given(values=st.lists(value_st, max_size=8), conds=st.lists(cond_st, max_size=3))
def test_a_row_filter_means_the_same_in_sql_and_in_python(
    values: list[int | None], conds: list[Condition]
) -> None:
    with ENGINE.begin() as conn:
        conn.execute(sa.text("DELETE FROM t"))
        if values:
            conn.execute(sa.text("INSERT INTO t (a) VALUES (:a)"), [{"a": v} for v in values])
        query = sa.select(TABLE.c.a).where(*where_clause(TABLE, {"a": "a"}, conds))
        in_sql = sorted(conn.execute(query).scalars(), key=repr)
    in_python = sorted((v for v in values if all(c.matches({"a": v}) for c in conds)), key=repr)
    assert in_sql == in_python


move_st = st.builds(
    ShipmentMove,
    bill=st.integers(1, 50).map(str),
    day=st.dates(dt.date(2026, 1, 1), dt.date(2026, 3, 1)),
    order_line=st.sampled_from(["1", "2"]),
    qty=st.integers(0, 80).map(Decimal),
    is_return=st.booleans(),
)


@settings(max_examples=200)
@given(moves=st.lists(move_st, max_size=12), need=st.integers(1, 150).map(Decimal))
def test_shipped_is_outbound_minus_returns(moves: list[ShipmentMove], need: Decimal) -> None:
    result = line_deliveries(moves, {"1": need, "2": need})
    for key, got in result.items():
        mine = [m for m in moves if m.order_line == key]
        out = sum((m.qty for m in mine if not m.is_return), Decimal(0))
        back = sum((m.qty for m in mine if m.is_return), Decimal(0))
        assert got.shipped == out - back
        assert (got.delivered_on is not None) == (got.shipped >= need)
        if got.delivered_on is not None:
            assert got.delivered_on in {m.day for m in mine if not m.is_return}
    assert set(result) == {m.order_line for m in moves}
