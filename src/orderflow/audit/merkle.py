"""RFC 6962 / RFC 9162 Merkle tree hashing, proofs and their verifiers (stdlib only).

Hashes follow RFC 9162 section 2.1: a leaf is ``SHA-256(0x00 || data)``, an
interior node ``SHA-256(0x01 || left || right)``, and the root of the empty tree
is ``SHA-256("")``. A tree of ``n`` leaves splits at the largest power of two
smaller than ``n``.

:class:`MerkleTree` keeps every *full* subtree node (``levels[k][j]`` is the hash
of leaves ``[j * 2**k, (j + 1) * 2**k)``), so an append costs amortised one node
hash and at most ``log2(n)``, and a root or proof for any past size costs
``O(log n)`` hashes. :class:`CompactRange` keeps only the ``O(log n)`` right-edge
nodes, for stores that persist nodes elsewhere.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

from orderflow.exceptions import InputError, ProofError

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "CompactRange",
    "MerkleTree",
    "leaf_hash",
    "merkle_root",
    "node_hash",
    "root_from_inclusion_proof",
    "verify_consistency",
    "verify_inclusion",
]

HASH_SIZE = 32
"""Length in bytes of every hash (SHA-256)."""

EMPTY_ROOT = hashlib.sha256(b"").digest()
"""Root hash of the empty tree: SHA-256 of the empty string."""

_sha256 = hashlib.sha256


def leaf_hash(data: bytes) -> bytes:
    """Return the RFC 6962 leaf hash ``SHA-256(0x00 || data)``."""
    return _sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Return the RFC 6962 interior node hash ``SHA-256(0x01 || left || right)``."""
    return _sha256(b"\x01" + left + right).digest()


def _fold_right(nodes: Sequence[bytes]) -> bytes:
    """Hash a left-to-right list of decreasing full subtrees into one subtree root."""
    result = nodes[-1]
    for node in reversed(nodes[:-1]):
        result = _sha256(b"\x01" + node + result).digest()
    return result


def _build_levels(leaves: list[bytes]) -> list[list[bytes]]:
    """Every full-subtree level above ``leaves`` (odd last nodes are not promoted)."""
    levels = [leaves]
    current = leaves
    sha = _sha256
    while len(current) > 1:
        it = iter(current)
        current = [
            sha(b"\x01" + left + right).digest() for left, right in zip(it, it, strict=False)
        ]
        levels.append(current)
    return levels


def _root_from_levels(levels: Sequence[Sequence[bytes]], size: int) -> bytes:
    """Root of the first ``size`` leaves, from full-subtree levels (``O(log size)``)."""
    if size == 0:
        return EMPTY_ROOT
    nodes = []
    start = 0
    for level in range(size.bit_length() - 1, -1, -1):
        if size >> level & 1:
            nodes.append(levels[level][start >> level])
            start += 1 << level
    return _fold_right(nodes)


def merkle_root(leaf_hashes: Iterable[bytes]) -> bytes:
    """Return the RFC 6962 root (``MTH``) of a sequence of leaf hashes."""
    leaves = list(leaf_hashes)
    return _root_from_levels(_build_levels(leaves), len(leaves))


class MerkleTree:
    """An append-only in-memory Merkle tree over leaf hashes.

    ``append`` is ``O(1)`` amortised (``O(log n)`` worst case); ``root``,
    ``inclusion_proof`` and ``consistency_proof`` accept any past size and cost
    ``O(log n)`` node hashes, so old checkpoints stay provable.
    """

    __slots__ = ("_levels",)

    def __init__(self, leaf_hashes: Iterable[bytes] = ()) -> None:
        leaves = list(leaf_hashes)
        for h in leaves:
            _check_hash(h, "leaf hash")
        self._levels: list[list[bytes]] = _build_levels(leaves)

    def __len__(self) -> int:
        return len(self._levels[0])

    @property
    def size(self) -> int:
        """Number of leaves."""
        return len(self._levels[0])

    def append(self, leaf: bytes) -> int:
        """Append a leaf hash; return its index."""
        if len(leaf) != HASH_SIZE:
            _check_hash(leaf, "leaf hash")
        levels = self._levels
        level = levels[0]
        level.append(leaf)
        index = len(level) - 1
        k = 0
        node = leaf
        while len(level) % 2 == 0:
            node = _sha256(b"\x01" + level[-2] + node).digest()
            k += 1
            if k == len(levels):
                levels.append([])
            level = levels[k]
            level.append(node)
        return index

    def append_data(self, data: bytes) -> int:
        """Append ``leaf_hash(data)``; return its index."""
        return self.append(_sha256(b"\x00" + data).digest())

    def leaf(self, index: int) -> bytes:
        """The leaf hash at ``index``."""
        self._check_index(index, self.size)
        return self._levels[0][index]

    def root(self, size: int | None = None) -> bytes:
        """Root hash of the tree of the first ``size`` leaves (default: all)."""
        size = self._size_arg(size)
        return _root_from_levels(self._levels, size)

    def _size_arg(self, size: int | None) -> int:
        if size is None:
            return self.size
        if not isinstance(size, int) or isinstance(size, bool) or not 0 <= size <= self.size:
            raise InputError(f"tree size {size!r} out of range 0..{self.size}")
        return size

    @staticmethod
    def _check_index(index: int, size: int) -> None:
        if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < size:
            raise InputError(f"leaf index {index!r} out of range for tree size {size}")

    def _range_hash(self, start: int, end: int) -> bytes:
        """Hash of the subtree over leaves ``[start, end)``; ``start`` aligned, ``end`` any."""
        levels = self._levels
        nodes = []
        while start < end:
            k = (end - start).bit_length() - 1
            if start:
                k = min(k, (start & -start).bit_length() - 1)
            nodes.append(levels[k][start >> k])
            start += 1 << k
        return _fold_right(nodes)

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """Audit path (RFC 9162 2.1.3.1) of leaf ``index`` in the tree of ``size`` leaves.

        Hashes are ordered from the leaf upwards.
        """
        size = self._size_arg(size)
        self._check_index(index, size)
        levels = self._levels
        proof: list[bytes] = []
        start, end = 0, size
        # Walk down from the root; record siblings top-down, then reverse.
        while end - start > 1:
            k = 1 << ((end - start - 1).bit_length() - 1)
            mid = start + k
            if index < mid:
                proof.append(self._range_hash(mid, end))
                end = mid
                # [start, end) is now a full subtree: finish with stored nodes.
                level = k.bit_length() - 1
                tail = []
                for lv in range(level):
                    tail.append(levels[lv][(index >> lv) ^ 1])
                proof.extend(reversed(tail))
                break
            proof.append(levels[k.bit_length() - 1][start >> (k.bit_length() - 1)])
            start = mid
        proof.reverse()
        return proof

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> list[bytes]:
        """Consistency proof (RFC 9162 2.1.4.1) from ``old_size`` to ``new_size`` leaves.

        ``old_size`` must be at least 1 (a proof from the empty tree is meaningless)
        and at most ``new_size``; equal sizes give an empty proof.
        """
        new_size = self._size_arg(new_size)
        if not isinstance(old_size, int) or isinstance(old_size, bool):
            raise InputError(f"old size {old_size!r} is not an integer")
        if not 1 <= old_size <= new_size:
            raise InputError(f"consistency proof needs 1 <= old size <= {new_size}, got {old_size}")
        proof: list[bytes] = []
        m, start, end, complete = old_size, 0, new_size, True
        while m != end - start:
            n = end - start
            k = 1 << ((n - 1).bit_length() - 1)
            if m <= k:
                proof.append(self._range_hash(start + k, end))
                end = start + k
            else:
                proof.append(self._range_hash(start, start + k))
                m -= k
                start += k
                complete = False
        if not complete:
            proof.append(self._range_hash(start, end))
        proof.reverse()
        return proof


class CompactRange:
    """The right-edge nodes of a tree: enough to append and compute the root.

    Memory is ``O(log n)``. ``nodes`` lists the full subtrees covering
    ``[0, size)`` from the largest (leftmost) to the smallest, one per set bit of
    ``size``, so a store can persist them and rebuild with :meth:`from_nodes`.
    """

    __slots__ = ("_nodes", "_size")

    def __init__(self) -> None:
        self._size = 0
        self._nodes: list[bytes] = []

    @classmethod
    def from_nodes(cls, size: int, nodes: Sequence[bytes]) -> CompactRange:
        """Rebuild a range of ``size`` leaves from its :attr:`nodes`."""
        if not isinstance(size, int) or size < 0:
            raise InputError(f"size {size!r} must be a non-negative integer")
        if len(nodes) != size.bit_count():
            raise InputError(
                f"a range of {size} leaves has {size.bit_count()} nodes, got {len(nodes)}"
            )
        for h in nodes:
            _check_hash(h, "node hash")
        rng = cls()
        rng._size = size
        rng._nodes = list(nodes)
        return rng

    @property
    def size(self) -> int:
        """Number of leaves appended."""
        return self._size

    @property
    def nodes(self) -> tuple[bytes, ...]:
        """The covering full-subtree hashes, largest first."""
        return tuple(self._nodes)

    def append(self, leaf: bytes) -> None:
        """Append one leaf hash (``O(log n)`` worst case, ``O(1)`` amortised)."""
        if len(leaf) != HASH_SIZE:
            _check_hash(leaf, "leaf hash")
        nodes = self._nodes
        node = leaf
        size = self._size
        while size & 1:
            node = _sha256(b"\x01" + nodes.pop() + node).digest()
            size >>= 1
        nodes.append(node)
        self._size += 1

    def root(self) -> bytes:
        """Root hash of the leaves appended so far."""
        return _fold_right(self._nodes) if self._nodes else EMPTY_ROOT


def _check_hash(value: object, what: str) -> None:
    if not isinstance(value, bytes) or len(value) != HASH_SIZE:
        raise InputError(f"{what} must be {HASH_SIZE} bytes, got {value!r:.80}")


def _check_proof(proof: Sequence[bytes]) -> None:
    for i, h in enumerate(proof):
        if not isinstance(h, bytes) or len(h) != HASH_SIZE:
            raise ProofError(f"proof hash {i} is not {HASH_SIZE} bytes")


def root_from_inclusion_proof(index: int, size: int, leaf: bytes, proof: Sequence[bytes]) -> bytes:
    """Recompute the root from an inclusion proof (RFC 9162 2.1.3.2).

    Raises :class:`~orderflow.exceptions.ProofError` if the proof has the wrong
    shape for ``index`` and ``size``.
    """
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} is not inside a tree of size {size}")
    if len(leaf) != HASH_SIZE:
        raise ProofError(f"leaf hash is not {HASH_SIZE} bytes")
    _check_proof(proof)
    fn, sn = index, size - 1
    r = leaf
    sha = _sha256
    for p in proof:
        if sn == 0:
            raise ProofError("inclusion proof is too long")
        if fn & 1 or fn == sn:
            r = sha(b"\x01" + p + r).digest()
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = sha(b"\x01" + r + p).digest()
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("inclusion proof is too short")
    return r


def verify_inclusion(
    index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes
) -> None:
    """Check that ``leaf`` is at ``index`` in the tree of ``size`` leaves with ``root``.

    Returns ``None`` on success; raises :class:`~orderflow.exceptions.ProofError`
    otherwise.
    """
    if root_from_inclusion_proof(index, size, leaf, proof) != root:
        raise ProofError(
            f"inclusion proof for leaf {index} does not lead to the root of size {size}"
        )


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> None:
    """Check that the tree of ``new_size`` extends the tree of ``old_size`` (RFC 9162 2.1.4.2).

    Equal sizes need an empty proof and equal roots. A proof from size 0 is
    refused, as in RFC 9162. Raises :class:`~orderflow.exceptions.ProofError`.
    """
    if not 0 <= old_size <= new_size:
        raise ProofError(f"old size {old_size} is larger than new size {new_size}")
    if old_size == 0:
        raise ProofError("a consistency proof from the empty tree is meaningless")
    _check_proof(proof)
    if old_size == new_size:
        if proof:
            raise ProofError("equal sizes need an empty consistency proof")
        if old_root != new_root:
            raise ProofError(f"two different roots for the same size {old_size}")
        return
    if not proof:
        raise ProofError("empty consistency proof")
    path = list(proof)
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    sha = _sha256
    for c in path[1:]:
        if sn == 0:
            raise ProofError("consistency proof is too long")
        if fn & 1 or fn == sn:
            fr = sha(b"\x01" + c + fr).digest()
            sr = sha(b"\x01" + c + sr).digest()
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = sha(b"\x01" + sr + c).digest()
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("consistency proof is too short")
    if fr != old_root:
        raise ProofError(f"consistency proof does not reproduce the old root (size {old_size})")
    if sr != new_root:
        raise ProofError(f"consistency proof does not reproduce the new root (size {new_size})")
