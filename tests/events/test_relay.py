"""The relay: at least once, in order per order, dead letters after repeated failure."""

from __future__ import annotations

import json
from collections import defaultdict

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orderflow.adapters.memory import MemoryStore
from orderflow.events import DeliveryError, Relay
from orderflow.service import OrderService
from orderflow.service.outbox import OUTBOX, OutboxEvent
from orderflow.testing.contracts import MAINLINE, draft, seeded_service


class FlakySink:
    """Fails the calls whose number is in ``failing``; records what it accepted."""

    def __init__(self, failing: set[int] = frozenset()) -> None:  # type: ignore[assignment]
        self.failing = set(failing)
        self.calls = 0
        self.accepted: list[dict[str, object]] = []

    def publish(self, event: OutboxEvent, payload: bytes) -> None:
        self.calls += 1
        if self.calls in self.failing:
            raise DeliveryError("the broker said no")
        self.accepted.append(json.loads(payload))

    def close(self) -> None:
        pass


class FlakyBatchSink(FlakySink):
    """The same, delivering events of different orders in batches (as JetStream does)."""

    def __init__(self, failing: set[int] = frozenset()) -> None:  # type: ignore[assignment]
        super().__init__(failing)
        self.batches: list[list[str]] = []

    def publish_batch(self, items: list[tuple[OutboxEvent, bytes]]) -> list[str | None]:
        chains = [str(e.body["chain"]) for e, _ in items]
        assert len(chains) == len(set(chains))  # one event per order in flight
        self.batches.append(chains)
        out: list[str | None] = []
        for event, payload in items:
            try:
                self.publish(event, payload)
            except DeliveryError as exc:
                out.append(str(exc))
            else:
                out.append(None)
        return out


def _lifecycles(svc: OrderService, n: int) -> None:
    for _ in range(n):
        order = svc.submit(draft(), actor="s").order
        for event in MAINLINE:
            svc.fire(order.id, event, actor="p")


def _clear(svc: OrderService) -> None:
    with svc.store.transaction() as tx:
        for key, _ in tx.docs(OUTBOX):
            tx.delete_doc(OUTBOX, key)


@settings(max_examples=40, deadline=None)
@given(st.sets(st.integers(1, 60), max_size=25), st.booleans())
def test_every_event_arrives_and_no_order_is_overtaken(failing: set[int], batched: bool) -> None:
    svc = seeded_service(MemoryStore())
    _clear(svc)
    _lifecycles(svc, 6)
    sink = FlakyBatchSink(failing) if batched else FlakySink(failing)
    report = Relay(svc.store, sink, batch=7, max_attempts=100, sleep=lambda s: None).run()
    ids = [str(e["id"]) for e in sink.accepted]
    assert len(ids) == len(set(ids)) == 30 == report.delivered
    seqs: dict[str, list[int]] = defaultdict(list)
    for e in sink.accepted:
        body = e["body"]
        assert isinstance(body, dict)
        seqs[str(body["chain"])].append(int(body["seq"]))
    assert all(s == sorted(s) for s in seqs.values())  # per order, in order
    assert Relay(svc.store, sink).status().pending == 0


def test_an_event_that_keeps_failing_becomes_a_dead_letter() -> None:
    svc = seeded_service(MemoryStore())
    _clear(svc)
    _lifecycles(svc, 1)
    sink = FlakySink(set(range(1, 4)))  # the first event fails three times
    relay = Relay(svc.store, sink, max_attempts=3, sleep=lambda s: None)
    for _ in range(2):
        assert relay.run_once().failed == 1
    assert relay.status().retrying == 1
    report = relay.run_once()
    assert (report.dead, report.held_back) == (1, 4)
    assert relay.run_once().delivered == 4  # the order's later events go on
    status = relay.status()
    assert (status.pending, status.retrying, status.dead) == (0, 0, 1)
    assert status.dead_letters[0][1] == "the broker said no"


def test_the_customer_token_never_leaves_in_an_event() -> None:
    svc = seeded_service(MemoryStore())
    sub = svc.submit(draft(), actor="s")
    sink = FlakySink()
    Relay(svc.store, sink).run()
    assert sub.query_token is not None
    assert all(sub.query_token not in json.dumps(e) for e in sink.accepted)


def test_bad_settings_are_refused() -> None:
    with pytest.raises(Exception, match="at least 1"):
        Relay(MemoryStore(), FlakySink(), batch=0)
