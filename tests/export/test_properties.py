"""Invariants of the OCEL export over arbitrary histories (hypothesis)."""

from __future__ import annotations

import datetime as dt
import json
import tempfile
from decimal import Decimal
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from orderflow.audit import decode
from orderflow.bootstrap import connect
from orderflow.clock import FrozenClock
from orderflow.domain import BomLine, Component, Customer, OrderLine, Product
from orderflow.exceptions import OrderflowError
from orderflow.export import write_ocel_json
from orderflow.service import OrderDraft, OrderService

_EVENTS = ("lock_kitting", "dispatch_production", "release_qc", "deliver", "cancel")
steps = st.lists(
    st.one_of(
        st.tuples(st.just("submit"), st.integers(1, 3), st.integers(1, 500)),
        st.tuples(st.just("fire"), st.integers(0, 9), st.sampled_from(_EVENTS)),
        st.tuples(st.just("scan"), st.sampled_from(["in", "out"]), st.integers(1, 900)),
        st.tuples(st.just("incident"), st.integers(0, 9), st.just("")),
        st.tuples(st.just("edit"), st.integers(0, 9), st.integers(1, 9)),
    ),
    max_size=25,
)


def _service() -> OrderService:
    svc = connect("memory://", clock=FrozenClock(dt.datetime(2026, 3, 2, 1, tzinfo=dt.UTC)))
    svc.put_customer(Customer("C1", "Ningbo Valve", "A", Decimal(10**7)))
    svc.put_component(Component("K1", "seal ring", safety_stock=Decimal(10)))
    svc.put_product(Product("P1", "valve", bom=(BomLine("K1", Decimal(2)),)))
    svc.set_stock("K1", 1000)
    return svc


def _play(svc: OrderService, plan: list[tuple[str, Any, Any]]) -> None:
    ids: list[str] = []
    clock = svc.clock
    assert isinstance(clock, FrozenClock)
    for kind, a, b in plan:
        clock.advance(dt.timedelta(minutes=37))
        try:
            if kind == "submit":
                lines = [OrderLine("P1", int(b) + n, Decimal("12.50")) for n in range(int(a))]
                draft = OrderDraft("C1", lines, dt.date(2026, 3, 20), "NB1")
                ids.append(svc.submit(draft, actor="sales").order.id)
            elif kind == "scan":
                svc.record_scan("K1", int(b), direction=str(a), actor="wh")
            elif ids and kind == "fire":
                svc.fire(ids[int(a) % len(ids)], str(b), actor="plant", reason="why")
            elif ids and kind == "incident":
                svc.open_incident(ids[int(a) % len(ids)], "logistics", actor="qa")
            elif ids and kind == "edit":
                day = dt.date(2026, 3, 20) + dt.timedelta(days=int(b))
                svc.edit(ids[int(a) % len(ids)], {"requested_date": day}, actor="planner")
        except OrderflowError:
            pass  # a refused step writes nothing; the invariant is about what was written


@settings(max_examples=25, deadline=None)
@given(plan=steps)
def test_every_audit_entry_becomes_exactly_one_event(
    plan: list[tuple[str, Any, Any]],
) -> None:
    svc = _service()
    _play(svc, plan)
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "log.jsonocel"
        write_ocel_json(svc.store, out, chunk=7)  # small chunks: the streaming seams too
        data = json.loads(out.read_text(encoding="utf-8"))
    entries = [decode(b) for b in svc.store.audit_entries()]
    assert [e["id"] for e in data["events"]] == [f"e{i}" for i in range(len(entries))]
    objects = {o["id"]: o["type"] for o in data["objects"]}
    for entry, event in zip(entries, data["events"], strict=True):
        # every relation names an exported object, and an order's entry relates to it
        assert all(r["objectId"] in objects for r in event["relationships"])
        if not entry.order_id.startswith("stock/"):
            related = {r["objectId"] for r in event["relationships"]}
            assert f"order:{entry.order_id}" in related
    declared = {t["name"] for t in data["eventTypes"]}
    assert {e["type"] for e in data["events"]} <= declared
    orders = list(svc.store.orders())
    assert sum(t == "order" for t in objects.values()) == len(orders)
