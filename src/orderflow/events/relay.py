"""The relay: delivers the transactional outbox at least once, in order per order (R6, R9).

Each pass reads the undelivered events in key order (time order, ``seq`` order within an
order), hands them to a :class:`EventSink`, and deletes a row once the sink has it. A
failure keeps the row and holds back the later events of the same order for that pass,
so an order's events never overtake each other; after ``max_attempts`` failures the
event moves to the dead letters (``orderflow relay --status`` shows them) and the order's
later events go on. A crash between delivery and deletion delivers the event again: the
sink de-duplicates by :attr:`~orderflow.service.outbox.OutboxEvent.id` (JetStream's
``Nats-Msg-Id``, a webhook's ``Idempotency-Key``). There is no watermark: every pass
reads every undelivered row, so a transaction that commits late is never skipped.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Protocol

import attrs

from orderflow.exceptions import OrderflowError
from orderflow.ports import Store
from orderflow.service.outbox import OUTBOX, OutboxEvent, pending

__all__ = [
    "ATTEMPTS",
    "DEAD",
    "DeliveryError",
    "EventSink",
    "FanoutSink",
    "Relay",
    "RelayReport",
    "RelayStatus",
    "event_payload",
    "outbox_status",
]

ATTEMPTS = "outbox_attempts"
"""Document kind of failed delivery counts (key: the event's outbox key)."""
DEAD = "outbox_dead"
"""Document kind of dead letters (key: the event's outbox key; body: event and error)."""


class DeliveryError(OrderflowError):
    """A sink could not deliver an event (the relay retries it later)."""


class EventSink(Protocol):
    """Where events go: a broker, a webhook, a file.

    A sink may also offer ``publish_batch(items) -> list[str | None]`` (an error text or
    ``None`` per item) to deliver events of different orders concurrently.
    """

    def publish(self, event: OutboxEvent, payload: bytes) -> None:
        """Deliver one event (raise :class:`DeliveryError` to have it retried)."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...


def _chain(event: OutboxEvent) -> str:
    return str(event.body.get("chain", event.type))


def event_payload(event: OutboxEvent) -> bytes:
    """The bytes every sink sends: id, type, schema version and body, as compact JSON.

    The customer's query token is not part of it (only a notifier building the
    customer's own message may use it).
    """
    doc = {
        "id": event.id,
        "type": event.type,
        "schema_version": event.schema_version,
        "body": dict(event.body),
    }
    return json.dumps(doc, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


class FanoutSink:
    """Several sinks as one (a broker and the notifier): an event counts as delivered when
    every sink has it; a failure of any retries it everywhere (the others drop the repeat
    by its id)."""

    def __init__(self, sinks: list[EventSink]) -> None:
        self.sinks = sinks

    def publish(self, event: OutboxEvent, payload: bytes) -> None:
        """Deliver to every sink."""
        for sink in self.sinks:
            sink.publish(event, payload)

    def close(self) -> None:
        """Close every sink."""
        for sink in self.sinks:
            sink.close()


@attrs.frozen
class RelayReport:
    """What one pass did."""

    delivered: int
    failed: int
    dead: int
    held_back: int
    """Events not tried because an earlier event of the same order failed in this pass."""


@attrs.frozen
class RelayStatus:
    """The outbox at a glance (``orderflow relay --status``)."""

    pending: int
    retrying: int
    dead: int
    dead_letters: tuple[tuple[str, str], ...]
    """``(event id, last error)`` of each dead letter."""


class Relay:
    """Delivers one store's outbox to one sink."""

    def __init__(
        self,
        store: Store,
        sink: EventSink,
        *,
        batch: int = 500,
        max_attempts: int = 8,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if batch < 1 or max_attempts < 1:
            raise OrderflowError("batch and max_attempts must be at least 1")
        self.store = store
        self.sink = sink
        self.batch = batch
        self.max_attempts = max_attempts
        self._sleep = sleep

    def run_once(self) -> RelayReport:
        """One pass over (at most ``batch``) undelivered events."""
        events = pending(self.store, self.batch)
        with self.store.transaction() as tx:
            attempts = {k: int(v) for k, v in tx.docs(ATTEMPTS)}
        delivered: list[str] = []
        failed: dict[str, tuple[OutboxEvent, str]] = {}
        blocked: set[str] = set()
        held = 0
        batch_publish = getattr(self.sink, "publish_batch", None)
        if batch_publish is None:
            for event in events:
                chain = _chain(event)
                if chain in blocked:
                    held += 1
                    continue
                try:
                    self.sink.publish(event, event_payload(event))
                except DeliveryError as exc:
                    blocked.add(chain)
                    failed[event.key] = (event, str(exc))
                else:
                    delivered.append(event.key)
        else:
            # rounds of one event per order, published together: an order's next event
            # goes out only after the previous one was acknowledged
            queue = list(events)
            while queue:
                heads: list[OutboxEvent] = []
                rest: list[OutboxEvent] = []
                seen: set[str] = set()
                for event in queue:
                    chain = _chain(event)
                    if chain in blocked:
                        held += 1
                    elif chain in seen:
                        rest.append(event)
                    else:
                        seen.add(chain)
                        heads.append(event)
                outcomes = batch_publish([(e, event_payload(e)) for e in heads])
                for event, error in zip(heads, outcomes, strict=True):
                    if error is None:
                        delivered.append(event.key)
                    else:
                        blocked.add(_chain(event))
                        failed[event.key] = (event, error)
                queue = rest
        dead = 0
        with self.store.transaction() as tx:
            for key in delivered:
                tx.delete_doc(OUTBOX, key)
                tx.delete_doc(ATTEMPTS, key)
            for key, (event, error) in failed.items():
                count = attempts.get(key, 0) + 1
                if count < self.max_attempts:
                    tx.put_doc(ATTEMPTS, key, str(count))
                    continue
                dead += 1
                letter = {"id": event.id, "type": event.type, "error": error,
                          "attempts": count, "payload": event_payload(event).decode()}  # fmt: skip
                tx.put_doc(DEAD, key, json.dumps(letter, ensure_ascii=False, sort_keys=True))
                tx.delete_doc(OUTBOX, key)
                tx.delete_doc(ATTEMPTS, key)
        return RelayReport(len(delivered), len(failed), dead, held)

    def run(self, *, max_seconds: float | None = None, until_idle: bool = True) -> RelayReport:
        """Pass after pass, backing off after failures (0.2 s doubling to 30 s); stops when
        the outbox is empty (``until_idle``) or after ``max_seconds``."""
        started = time.monotonic()
        totals = [0, 0, 0, 0]
        backoff = 0.0
        while True:
            report = self.run_once()
            for i, n in enumerate(attrs.astuple(report)):
                totals[i] += n
            done = not (report.delivered or report.failed or report.held_back)
            if (until_idle and done) or (
                max_seconds is not None and time.monotonic() - started >= max_seconds
            ):
                return RelayReport(*totals)
            backoff = min(30.0, max(0.2, backoff * 2)) if report.failed else 0.0
            if backoff or done:
                self._sleep(backoff or 0.5)

    def status(self) -> RelayStatus:
        """Pending, retrying and dead events, with each dead letter's last error."""
        return outbox_status(self.store)


def outbox_status(store: Store) -> RelayStatus:
    """The outbox of ``store`` at a glance: needs no sink (``orderflow relay --status``)."""
    with store.transaction() as tx:
        pending_n = len(tx.docs(OUTBOX))
        retrying = len(tx.docs(ATTEMPTS))
        dead = tx.docs(DEAD)
    letters = tuple(
        (str(json.loads(body)["id"]), str(json.loads(body)["error"])) for _, body in dead
    )
    return RelayStatus(pending_n, retrying, len(dead), letters)
