"""pm4py (a dev-only dependency: AGPL) reads every export and its discovery runs on it."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import pytest

from orderflow.audit import EntryType, decode
from orderflow.export import write_ocel_json, write_ocel_sqlite, write_xes
from orderflow.service import OrderService

pm4py = pytest.importorskip("pm4py", reason="pm4py is in the export-check dependency group")

OBJECT_TYPES = {"order", "order_line", "customer", "product", "component", "factory", "policy"}


def _quiet(call: Any, *args: Any) -> Any:
    # pm4py suggests optional accelerators with a UserWarning (errors under our settings)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return call(*args)


def _relations(path: Path) -> int:
    data = json.loads(path.read_text(encoding="utf-8"))
    return sum(len(e["relationships"]) for e in data["events"])


def test_ocel_json_reimports_with_every_event_and_relation(
    year: OrderService, tmp_path: Path
) -> None:
    out = tmp_path / "log.jsonocel"
    summary = write_ocel_json(year.store, out)
    ocel = _quiet(pm4py.read_ocel2_json, str(out))
    assert summary.events == year.store.audit_size() == len(ocel.events)
    assert len(ocel.relations) == _relations(out)
    assert set(ocel.objects["ocel:type"]) == OBJECT_TYPES
    dfg = _quiet(pm4py.discover_ocdfg, ocel)
    assert {"submit order", "lock_kitting", "deliver"} <= set(dfg["activities"])
    assert "order" in dfg["object_types"]


def test_ocel_sqlite_reimports_like_the_json(year: OrderService, tmp_path: Path) -> None:
    json_out, sqlite_out = tmp_path / "log.jsonocel", tmp_path / "log.sqlite"
    write_ocel_json(year.store, json_out)
    summary = write_ocel_sqlite(year.store, sqlite_out)
    from_json = _quiet(pm4py.read_ocel2_json, str(json_out))
    from_sqlite = _quiet(pm4py.read_ocel2_sqlite, str(sqlite_out))
    assert summary.events == len(from_sqlite.events) == len(from_json.events)
    assert len(from_sqlite.relations) == len(from_json.relations)
    assert len(from_sqlite.objects) == len(from_json.objects)
    assert len(from_sqlite.o2o) == len(from_json.o2o)
    # the requested date agreed after submission is an attribute change of its order
    assert len(from_sqlite.object_changes) == len(from_json.object_changes) == 1
    _quiet(pm4py.discover_ocdfg, from_sqlite)


def test_xes_has_one_trace_per_order_with_its_whole_chain(
    year: OrderService, tmp_path: Path
) -> None:
    out = tmp_path / "log.xes"
    summary = write_xes(year.store, out)
    log = _quiet(pm4py.read_xes, str(out))
    orders = list(year.store.orders())
    assert summary.traces == len(orders) == log["case:concept:name"].nunique()
    chain_entries = sum(len(year.store.audit_chain(o.id)) for o in orders)
    assert summary.events == chain_entries == len(log)
    assert set(log["case:concept:name"]) == {o.number for o in orders}
    first = decode(year.store.audit_chain(orders[0].id)[0][1])
    assert first.type is EntryType.CREATED
    trace = log[log["case:concept:name"] == orders[0].number]
    assert trace["concept:name"].iloc[0] == "submit order"
    assert trace["time:timestamp"].is_monotonic_increasing
