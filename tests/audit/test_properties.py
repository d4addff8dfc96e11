"""Hypothesis properties: any tampering with stored entries or proofs is detected."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orderflow.audit import (
    Checkpoint,
    MerkleTree,
    decode,
    leaf_hash,
    verify_consistency,
    verify_inclusion,
    verify_log,
)
from orderflow.exceptions import InputError, ProofError, TamperDetected

from .conftest import make_log

LOG = make_log(orders=10, seed=3)
STORED = list(LOG.entries)
CHECKPOINT = LOG.checkpoint()
KINDS = {"edited", "missing", "reordered", "duplicated", "truncated", "root_mismatch"}
LAST_OF_ORDER = {LOG.indices(decode(d).order_id)[-1] for d in STORED}
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def detected(stored: list[bytes], with_checkpoint: bool = True) -> TamperDetected:
    checkpoint = CHECKPOINT if with_checkpoint else None
    with pytest.raises(TamperDetected) as info:
        verify_log(stored, checkpoint)
    err = info.value
    # streamed as a store streams it (one pass, read again to diagnose): the same answer
    with pytest.raises(TamperDetected) as streamed:
        verify_log(iter(stored), checkpoint, reread=lambda: (stored, None))
    assert (streamed.value.kind, streamed.value.first_bad_index) == (
        err.kind,
        err.first_bad_index,
    )
    assert err.kind in KINDS
    assert 0 <= err.first_bad_index <= len(STORED)
    return err


@FAST
@given(st.lists(st.integers(0, len(STORED)), max_size=4))
def test_a_streamed_log_verifies_as_the_whole_log(sizes: list[int]) -> None:
    tree = MerkleTree([leaf_hash(d) for d in STORED])
    trusted = [Checkpoint(CHECKPOINT.origin, n, tree.root(n)) for n in sizes]
    whole = verify_log(STORED, checkpoints=trusted)
    leaves = [leaf_hash(d) for d in STORED]
    streamed = verify_log(iter(STORED), checkpoints=trusted, stored_leaves=iter(leaves),
                          reread=lambda: (STORED, leaves))  # fmt: skip
    assert streamed == whole == CHECKPOINT


@FAST
@given(st.data())
def test_every_single_byte_change_is_detected(data: st.DataObject) -> None:
    index = data.draw(st.integers(0, len(STORED) - 1), label="entry")
    entry = STORED[index]
    pos = data.draw(st.integers(0, len(entry) - 1), label="byte")
    value = data.draw(st.integers(0, 255).filter(lambda b: b != entry[pos]), label="value")
    stored = list(STORED)
    stored[index] = entry[:pos] + bytes([value]) + entry[pos + 1 :]
    err = detected(stored)
    try:
        decode(stored[index])
    except InputError:  # no longer canonical: named precisely
        assert err.first_bad_index <= index
        assert err.kind == "edited" or err.first_bad_index < index
    if index not in LAST_OF_ORDER:  # its successor's link catches it without a checkpoint
        detected(stored, with_checkpoint=False)


@FAST
@given(st.integers(0, len(STORED) - 1))
def test_every_deletion_is_detected(index: int) -> None:
    stored = list(STORED)
    del stored[index]
    err = detected(stored)
    assert err.kind in {"missing", "truncated"}


@FAST
@given(st.integers(0, len(STORED) - 1), st.integers(0, len(STORED) - 1))
def test_every_swap_is_detected(i: int, j: int) -> None:
    if i == j:
        return
    stored = list(STORED)
    stored[i], stored[j] = stored[j], stored[i]
    err = detected(stored)
    assert err.first_bad_index <= max(i, j) or err.kind == "root_mismatch"


@FAST
@given(st.integers(0, len(STORED) - 1), st.integers(0, len(STORED)))
def test_every_duplication_is_detected(i: int, j: int) -> None:
    stored = list(STORED)
    stored.insert(j, STORED[i])
    detected(stored, with_checkpoint=False)
    detected(stored)


@FAST
@given(st.integers(1, len(STORED)))
def test_every_truncation_is_detected(k: int) -> None:
    stored = STORED[:-k]
    err = detected(stored)
    assert (err.first_bad_index, err.kind) == (len(stored), "truncated")


TREE = MerkleTree([leaf_hash(i.to_bytes(2, "big")) for i in range(300)])


def flip(blob: bytes, bit: int) -> bytes:
    return blob[: bit // 8] + bytes([blob[bit // 8] ^ (1 << bit % 8)]) + blob[bit // 8 + 1 :]


@FAST
@given(st.data())
def test_inclusion_proof_with_any_bit_flipped_is_rejected(data: st.DataObject) -> None:
    size = data.draw(st.integers(1, 300), label="size")
    index = data.draw(st.integers(0, size - 1), label="index")
    proof, leaf, root = TREE.inclusion_proof(index, size), TREE.leaf(index), TREE.root(size)
    verify_inclusion(index, size, leaf, proof, root)
    parts = [leaf, root, *proof]
    which = data.draw(st.integers(0, len(parts) - 1), label="part")
    parts[which] = flip(parts[which], data.draw(st.integers(0, 255), label="bit"))
    with pytest.raises(ProofError):
        verify_inclusion(index, size, parts[0], parts[2:], parts[1])


@FAST
@given(st.data())
def test_consistency_proof_with_any_bit_flipped_is_rejected(data: st.DataObject) -> None:
    new = data.draw(st.integers(1, 300), label="new")
    old = data.draw(st.integers(1, new), label="old")
    parts = [TREE.root(old), TREE.root(new), *TREE.consistency_proof(old, new)]
    which = data.draw(st.integers(0, len(parts) - 1), label="part")
    parts[which] = flip(parts[which], data.draw(st.integers(0, 255), label="bit"))
    with pytest.raises(ProofError):
        verify_consistency(old, new, parts[0], parts[1], parts[2:])


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 300), st.integers(1, 300), st.binary(max_size=8))
def test_consistency_proofs_between_any_two_sizes_verify(a: int, b: int, salt: bytes) -> None:
    old, new = min(a, b), max(a, b)
    tree = MerkleTree([leaf_hash(salt + i.to_bytes(2, "big")) for i in range(new)])
    verify_consistency(old, new, tree.root(old), tree.root(new), tree.consistency_proof(old, new))
