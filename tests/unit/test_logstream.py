"""Streaming the audit log a chunk at a time gives the whole log, in order."""

from __future__ import annotations

import pytest

from orderflow.adapters.memory import MemoryStore
from orderflow.exceptions import TamperDetected
from orderflow.logstream import decoded, entries, in_chunks
from orderflow.testing.contracts import MAINLINE, draft, seeded_service


def test_chunks_of_any_size_give_the_whole_log_in_order() -> None:
    svc = seeded_service(MemoryStore())
    for _ in range(3):
        order = svc.submit(draft(), actor="s").order
        for event in MAINLINE:
            svc.fire(order.id, event, actor="p")
    store = svc.store
    whole = store.audit_entries()
    for chunk in (1, 2, 7, len(whole), len(whole) + 5):
        assert list(entries(store, chunk=chunk)) == whole
        assert list(in_chunks(store.audit_leaves, 3, 11, chunk)) == store.audit_leaves(3, 11)
        assert [i for i, _ in decoded(store, chunk=chunk)] == list(range(len(whole)))


def test_an_entry_that_does_not_decode_is_named() -> None:
    store = MemoryStore()
    seeded_service(store)
    store.tamper(0, b"not an entry")
    with pytest.raises(TamperDetected) as info:
        list(decoded(store, chunk=2))
    assert info.value.first_bad_index == 0
