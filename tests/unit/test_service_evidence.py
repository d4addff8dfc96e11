"""Automatic checkpoints, typed history and derived slip codes through the service."""

from __future__ import annotations

import datetime as dt

import attrs
import pytest

from orderflow.adapters.memory import MemoryStore
from orderflow.audit import EntryType
from orderflow.exceptions import AccessDenied
from orderflow.geo.access import Actor
from orderflow.service import OrderService
from orderflow.service.logmeta import slip_code, slip_key
from orderflow.testing.contracts import draft, seeded_service


def _every(svc: OrderService, entries: int, seconds: int = 10**6) -> None:
    policy = attrs.evolve(
        svc.policy, checkpoint_every_entries=entries, checkpoint_every_seconds=seconds
    )
    svc.change_policy(policy, actor="admin")


def test_a_checkpoint_is_stored_every_n_entries_but_never_inside_a_batch() -> None:
    svc = seeded_service(MemoryStore())  # log: the seeding's stock-take = 1 entry
    _every(svc, 4)
    order = svc.submit(draft(), actor="s").order  # + policy change + created = 3
    assert svc.audit.checkpoints() == []
    svc.fire(order.id, "lock_kitting", actor="p")  # 4 entries since the service started
    assert [c.size for c in svc.audit.checkpoints()] == [4]
    with svc.store.transaction():  # a batch: nothing is anchored until it commits
        for event in ("dispatch_production", "release_qc", "deliver"):
            svc.fire(order.id, event, actor="p")
        assert [c.size for c in svc.audit.checkpoints()] == [4]
    svc.submit(draft(), actor="s")  # the first write after the batch anchors all of it
    assert [c.size for c in svc.audit.checkpoints()] == [4, 8]
    svc.audit.verify()


def test_a_checkpoint_is_stored_when_time_passed_and_the_log_grew() -> None:
    svc = seeded_service(MemoryStore())
    _every(svc, 10**6, seconds=600)
    clock = svc.clock
    assert hasattr(clock, "advance")
    svc.submit(draft(), actor="s")
    assert svc.audit.checkpoints() == []
    clock.advance(dt.timedelta(minutes=11))
    svc.submit(draft(), actor="s")
    assert [c.size for c in svc.audit.checkpoints()] == [4]


def test_history_is_typed_and_the_policy_chain_has_one_too() -> None:
    svc = seeded_service(MemoryStore())
    order = svc.submit(draft(), actor="sales").order
    svc.fire(order.id, "hold", actor="p", reason="customer call", context={"device": "pc-1"})
    svc.edit(order.id, {"delivery_address": "宁波市北仑区 1 号"}, actor="p")
    created, held, edited = svc.history(order.id)
    assert created.type is EntryType.CREATED and created.at.tzinfo is not None
    assert created.context["check.bom_kitting"] == "pass"
    assert (held.from_stage, held.to_stage, held.context["reason"]) == (
        "pending_review", "on_hold", "customer call"
    )  # fmt: skip
    assert held.context["device"] == "pc-1" and held.actor == "p"
    (change,) = edited.changes
    assert (change.field, change.old, change.new) == ("delivery_address", "", "宁波市北仑区 1 号")
    _every(svc, 50)
    (policy_change,) = svc.policy_history()
    assert policy_change.type is EntryType.POLICY_CHANGE
    assert {c.field for c in policy_change.changes} >= {"checkpoint_every_entries", "version"}


def test_the_slip_code_is_derived_stable_and_scoped() -> None:
    svc = seeded_service(MemoryStore())
    order = svc.submit(draft(), actor="s").order
    code = svc.slip_code(order.id, actor="s")
    assert code == svc.slip_code(order.id, actor=Actor("li", {"NB1": "operator"}))
    assert len(code) == 6 and code.isdigit()
    assert all(code not in data.decode() for data in svc.store.audit_entries())
    with pytest.raises(AccessDenied):
        svc.slip_code(order.id, actor=Actor("zhao", {"SZ1": "operator"}))
    keys = []
    for store in (svc.store, MemoryStore()):  # every store makes its own random slip key
        with store.transaction() as tx:
            keys.append(slip_key(tx))
    assert keys[0] != keys[1] and len(keys[0]) == 32
    assert slip_code(keys[0], order.id) == code
