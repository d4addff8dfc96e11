"""A fuzz of the public service API: random calls, random (often invalid) arguments, random
actors. Only OrderflowErrors escape, the log verifies deeply afterwards, and no scoped
actor ever reads or changes another factory's order (R5, R10)."""

from __future__ import annotations

import datetime as dt
import os
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orderflow.adapters.memory import MemoryStore
from orderflow.domain import OrderLine
from orderflow.exceptions import OrderflowError
from orderflow.geo.access import Actor
from orderflow.service import OrderDraft
from orderflow.testing.contracts import START, seeded_service

EXAMPLES = 2_000 if os.environ.get("ORDERFLOW_NIGHTLY") == "1" else 60

ACTORS = [
    Actor("op.nb", {"NB1": "operator"}),
    Actor("op.sz", {"SZ1": "operator"}),
    Actor("viewer.nb", {"NB1": "viewer"}),
    Actor("boss", group_admin=True),
    "plain.user",
]
EVENTS = ["lock_kitting", "dispatch_production", "release_qc", "deliver", "fail_qc", "hold",
          "resume", "cancel", "explode", "", None]  # fmt: skip

junk = st.one_of(
    st.none(), st.integers(-5, 10**6), st.text(max_size=30), st.floats(allow_nan=True),
    st.just(dt.datetime(2026, 5, 11, 1)), st.dates(), st.binary(max_size=4),
    st.text(max_size=10),  # control characters, unnormalised forms, surrogates
)  # fmt: skip


def mostly(valid: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """``valid`` about four times in five, else junk: deep paths get reached too."""
    return st.one_of(valid, valid, valid, valid, junk)


texts = mostly(st.text(st.characters(categories=["L", "N", "Zs"]), max_size=20))
instants = st.one_of(
    st.none(),
    st.none(),
    st.datetimes(dt.datetime(1990, 1, 1), dt.datetime(2030, 1, 1), timezones=st.just(dt.UTC)),
    junk,
)
contexts = st.one_of(
    st.none(),
    st.dictionaries(st.sampled_from(["device", "batch", "note", "event", "Bad Key"]), texts,
                    max_size=2),
    junk,
)  # fmt: skip


@st.composite
def a_draft(draw: st.DrawFn) -> Any:
    qty = draw(mostly(st.integers(1, 300)))
    try:
        return OrderDraft(
            draw(st.sampled_from(["C001", "C999", ""])),
            [OrderLine("HV-100", qty, "10")],
            draw(mostly(st.just(dt.date(2026, 7, 1)))),
            draw(st.sampled_from(["NB1", "SZ1"])),
            delivery_address=draw(st.one_of(st.just(""), texts)),
        )
    except OrderflowError:
        return None


def _call(svc: Any, data: st.DataObject, orders: list[Any], actor: Any) -> tuple[str, Any]:
    oid = data.draw(mostly(st.sampled_from([o.id for o in orders])))
    kind = data.draw(st.sampled_from(
        ["fire", "edit", "incident", "scan", "get", "history", "slip", "status",
         "stock_take", "explain", "submit"]
    ))  # fmt: skip
    if kind == "submit":
        d = data.draw(a_draft())
        return kind, None if d is None else svc.submit(d, actor=actor)
    if kind == "fire":
        return kind, svc.fire(oid, data.draw(st.sampled_from(EVENTS)), actor=actor,
                              reason=data.draw(st.one_of(st.none(), texts)),
                              occurred_at=data.draw(instants),
                              context=data.draw(contexts))  # fmt: skip
    if kind == "edit":
        field = data.draw(st.sampled_from(["requested_date", "delivery_address", "lines", "x"]))
        value = {"requested_date": mostly(st.dates(dt.date(2026, 1, 1), dt.date(2027, 1, 1))),
                 "delivery_address": texts, "lines": junk, "x": junk}[field]  # fmt: skip
        return kind, svc.edit(oid, {field: data.draw(value)}, actor=actor)
    if kind == "incident":
        category = data.draw(st.sampled_from(["stock_shortage", "qc_failure", "other", None]))
        return kind, svc.open_incident(oid, category, actor=actor, batch=data.draw(texts))
    if kind == "scan":
        qty = data.draw(mostly(st.decimals("-5", "500", places=1)))
        direction = data.draw(st.sampled_from(["in", "out", "sideways"]))
        factory = data.draw(st.sampled_from(["NB1", "SZ1", ""]))
        return kind, svc.record_scan("Q23-7", qty, direction=direction, actor=actor,
                                     factory_id=factory)  # fmt: skip
    if kind == "get":
        return kind, svc.get(oid, actor=actor)
    if kind == "history":
        return kind, svc.history(oid, actor=actor)
    if kind == "slip":
        return kind, svc.slip_status(data.draw(texts), data.draw(texts))
    if kind == "status":
        return kind, svc.customer_status(data.draw(texts))
    if kind == "stock_take":
        return kind, svc.set_stock("Q23-7", data.draw(mostly(st.integers(0, 5000))),
                                   actor=actor)  # fmt: skip
    return kind, svc.explain(oid, data.draw(st.sampled_from(EVENTS)), actor=actor)


def _factory_of(result: Any) -> str | None:
    order = getattr(result, "order", result)
    return getattr(order, "factory_id", None)


@pytest.mark.slow  # 60 examples in every run; 2,000 in the nightly session
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.data())
def test_random_calls_by_random_actors_keep_every_promise(data: st.DataObject) -> None:
    svc = seeded_service(MemoryStore())
    clock: Any = svc.clock
    svc.set_stock("Q23-7", 10_000)
    orders = [
        svc.submit(OrderDraft("C001", [OrderLine("HV-100", 10, "10")], dt.date(2026, 7, 1), f),
                   actor="boss").order
        for f in ("NB1", "NB1", "SZ1")
    ]  # fmt: skip
    for _ in range(30):
        actor = data.draw(st.sampled_from(ACTORS))
        clock.advance(dt.timedelta(minutes=data.draw(st.integers(0, 600))))
        try:
            kind, result = _call(svc, data, orders, actor)
        except OrderflowError:
            continue  # refused with a message: fine
        factory = _factory_of(result)
        if isinstance(actor, Actor) and factory is not None and not actor.group_admin:
            assert factory in actor.factory_ids, f"{actor.id} reached {factory} by {kind}"
        if kind == "submit" and result is not None:
            orders.append(result.order)
    svc.audit.verify(deep=True)
    assert svc.stock("Q23-7").on_hand >= svc.stock("Q23-7").reserved >= Decimal(0)
    assert clock.now() >= START
