"""Events into the real NATS JetStream on 127.0.0.1:4222 (runs, never skips, under CI)."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
from collections import defaultdict
from typing import Any

import pytest

from orderflow.adapters.memory import MemoryStore
from orderflow.events import Relay
from orderflow.service.outbox import OUTBOX
from orderflow.testing.contracts import MAINLINE, draft, seeded_service

NATS_URL = os.environ.get("ORDERFLOW_TEST_NATS_URL", "nats://127.0.0.1:4222")


def _sink(stream: str, prefix: str) -> Any:
    from orderflow.events.jetstream import JetStreamSink

    try:
        return JetStreamSink(NATS_URL, stream=stream, prefix=prefix)
    except Exception as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"NATS not reachable at {NATS_URL}: {exc}", pytrace=False)
        pytest.skip(f"NATS not reachable at {NATS_URL}: {exc}")


async def _read_all(stream: str, prefix: str) -> list[tuple[str, dict[str, Any]]]:
    import nats

    client = await nats.connect(NATS_URL)
    try:
        js = client.jetstream()
        info = await js.stream_info(stream)
        sub = await js.pull_subscribe(f"{prefix}.>", durable=None, stream=stream)
        out: list[tuple[str, dict[str, Any]]] = []
        while len(out) < info.state.messages:
            for msg in await sub.fetch(min(500, info.state.messages - len(out)), timeout=5):
                assert msg.headers is not None
                out.append((msg.headers["Nats-Msg-Id"], json.loads(msg.data)))
                await msg.ack()
        await js.delete_stream(stream)
        return out
    finally:
        await client.close()


def test_events_arrive_once_in_order_even_when_sent_twice() -> None:
    tag = secrets.token_hex(4)
    stream, prefix = f"OF_TEST_{tag}", f"oft{tag}"
    svc = seeded_service(MemoryStore(), seal_rings=10**6)
    with svc.store.transaction() as tx:
        kept = tx.docs(OUTBOX)
    for _ in range(30):
        order = svc.submit(draft(), actor="s").order
        for event in MAINLINE:
            svc.fire(order.id, event, actor="p")
    with svc.store.transaction() as tx:
        before = tx.docs(OUTBOX)
    sink = _sink(stream, prefix)
    try:
        assert Relay(svc.store, sink, batch=40).run().delivered == len(before)
        # a relay that crashed after publishing, before deleting: everything again
        with svc.store.transaction() as tx:
            for key, body in before:
                tx.put_doc(OUTBOX, key, body)
        Relay(svc.store, sink, batch=40).run()
        assert sink.duplicates == len(before)  # JetStream recognised every second copy
    finally:
        sink.close()
    got = asyncio.run(_read_all(stream, prefix))
    ids = [i for i, _ in got]
    assert len(ids) == len(set(ids)) == len(before)
    seqs: dict[str, list[int]] = defaultdict(list)
    for _, doc in got:
        seqs[doc["body"]["chain"]].append(doc["body"]["seq"])
    assert all(s == sorted(s) for s in seqs.values())
    assert len(kept) <= 1  # only the seeding's stock-take was there before
