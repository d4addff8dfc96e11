"""verify_log: whole-log verification names the first bad entry and the damage."""

from __future__ import annotations

import pytest

from orderflow.audit import AuditLog, Checkpoint, decode, encode, verify_log
from orderflow.exceptions import InputError, TamperDetected

from .conftest import ORIGIN, make_log


def detect(stored: list[bytes], checkpoint: Checkpoint | None = None) -> TamperDetected:
    with pytest.raises(TamperDetected) as info:
        verify_log(stored, checkpoint)
    return info.value


def order_positions(log: AuditLog) -> dict[str, list[int]]:
    return {decode(d).order_id: log.indices(decode(d).order_id) for d in log.entries}


def test_intact_log_verifies_and_returns_its_checkpoint(small_log: AuditLog) -> None:
    cp = small_log.checkpoint()
    assert verify_log(small_log.entries, cp) == cp
    assert verify_log(iter(small_log.entries)) == cp
    older = small_log.checkpoint(5)
    assert verify_log(small_log.entries, cp, checkpoints=[older]) == cp
    assert verify_log([], origin=ORIGIN) == Checkpoint(ORIGIN, 0, small_log.tree.root(0))
    with pytest.raises(InputError):
        verify_log([])


def test_a_grown_log_still_verifies_against_an_older_checkpoint(small_log: AuditLog) -> None:
    assert verify_log(small_log.entries, small_log.checkpoint(10)).size == small_log.size


def test_edited_entry_is_named(small_log: AuditLog) -> None:
    positions = order_positions(small_log)
    chain = next(p for p in positions.values() if len(p) >= 3)
    target = chain[1]
    stored = list(small_log.entries)
    stored[target] = stored[target].replace(b"pda-7", b"pda-8")
    err = detect(stored)
    assert (err.first_bad_index, err.kind) == (target, "edited")
    assert str(err).startswith(f"audit log entry {target}: edited:")


def test_edited_link_field_is_named(small_log: AuditLog) -> None:
    positions = order_positions(small_log)
    chain = next(p for p in positions.values() if len(p) >= 3)
    target = chain[1]
    stored = list(small_log.entries)
    entry = decode(stored[target])
    flipped = bytes([entry.prev_hash[0] ^ 1]) + entry.prev_hash[1:]
    stored[target] = stored[target].replace(entry.prev_hash.hex().encode(), flipped.hex().encode())
    err = detect(stored)
    assert (err.first_bad_index, err.kind) == (target, "edited")


def test_edit_of_an_orders_last_entry_needs_the_checkpoint(small_log: AuditLog) -> None:
    last = small_log.size - 1
    stored = list(small_log.entries)
    stored[last] = stored[last].replace(b'"at":1', b'"at":2')
    assert stored[last] != small_log.entries[last]
    verify_log(stored)  # internally consistent: only the root can tell
    err = detect(stored, small_log.checkpoint())
    assert (err.first_bad_index, err.kind) == (0, "root_mismatch")
    with pytest.raises(TamperDetected) as info:  # an older trusted checkpoint narrows it down
        verify_log(stored, small_log.checkpoint(), checkpoints=[small_log.checkpoint(last)])
    assert (info.value.first_bad_index, info.value.kind) == (last, "root_mismatch")


def test_deleted_entry_is_missing(small_log: AuditLog) -> None:
    chain = next(p for p in order_positions(small_log).values() if len(p) >= 3)
    stored = list(small_log.entries)
    del stored[chain[1]]
    err = detect(stored)
    assert err.kind == "missing"
    assert err.first_bad_index == chain[2] - 1  # the successor moved up by one


def test_swapped_entries_of_one_order_are_reordered(small_log: AuditLog) -> None:
    chain = next(p for p in order_positions(small_log).values() if len(p) >= 2)
    a, b = chain[0], chain[1]
    stored = list(small_log.entries)
    stored[a], stored[b] = stored[b], stored[a]
    err = detect(stored)
    assert (err.first_bad_index, err.kind) == (a, "reordered")


def test_swapped_entries_of_two_orders_change_the_root(small_log: AuditLog) -> None:
    stored = list(small_log.entries)
    i = next(
        i
        for i in range(len(stored) - 1)
        if decode(stored[i]).order_id != decode(stored[i + 1]).order_id
        and decode(stored[i + 1]).seq == 0
    )
    stored[i], stored[i + 1] = stored[i + 1], stored[i]
    verify_log(stored)  # per-order chains are intact
    err = detect(stored, small_log.checkpoint())
    assert err.kind == "root_mismatch"


def test_duplicated_entry_is_named(small_log: AuditLog) -> None:
    stored = list(small_log.entries)
    stored.insert(9, stored[4])
    err = detect(stored)
    assert (err.first_bad_index, err.kind) == (9, "duplicated")


def test_truncated_log_is_detected_with_a_checkpoint(small_log: AuditLog) -> None:
    stored = list(small_log.entries)[:-3]
    verify_log(stored)  # a prefix is a valid log on its own
    err = detect(stored, small_log.checkpoint())
    assert (err.first_bad_index, err.kind) == (len(stored), "truncated")


def test_garbage_entry_is_edited(small_log: AuditLog) -> None:
    stored = list(small_log.entries)
    stored[3] = b"not an entry"
    err = detect(stored)
    assert (err.first_bad_index, err.kind) == (3, "edited")


def test_order_id_rewrite_is_edited() -> None:
    log = make_log(orders=3, seed=5)
    stored = list(log.entries)
    target = next(i for i, d in enumerate(stored) if decode(d).seq == 1)
    entry = decode(stored[target])
    stored[target] = stored[target].replace(entry.order_id.encode(), b"HY-OTHER")
    err = detect(stored)
    assert (err.first_bad_index, err.kind) == (target, "edited")


def test_log_append_checks_chain_and_origin(small_log: AuditLog) -> None:
    copy = AuditLog.load(ORIGIN, small_log.entries)
    assert copy.checkpoint() == small_log.checkpoint()
    with pytest.raises(InputError, match="does not continue"):
        copy.append(small_log.entries[0])
    with pytest.raises(InputError, match="belongs to log"):
        AuditLog("other.example").append(small_log.entries[0])
    with pytest.raises(InputError):
        AuditLog("")
    entry = decode(small_log.entries[0])
    assert encode(entry) == small_log.entries[0]
    assert small_log.head(entry.order_id) is not None
    assert small_log.head("nope") is None
