"""RFC 6962 / RFC 9162 hashing and proofs: published known answers and test vectors."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from orderflow.audit.merkle import (
    EMPTY_ROOT,
    CompactRange,
    MerkleTree,
    leaf_hash,
    merkle_root,
    node_hash,
    root_from_inclusion_proof,
    verify_consistency,
    verify_inclusion,
)
from orderflow.exceptions import InputError, ProofError

DATA = Path(__file__).parent / "data"

# Leaf inputs and roots for every size 0..8, published in transparency-dev/merkle
# testonly/constants.go (the Certificate Transparency reference tree).
LEAF_INPUTS = [
    bytes.fromhex(h)
    for h in (
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    )
]
ROOTS = [
    bytes.fromhex(h)
    for h in (
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    )
]


def ref_mth(leaves: list[bytes]) -> bytes:
    """MTH from RFC 6962 section 2.1, written from the text."""
    n = len(leaves)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return leaves[0]
    k = 1 << ((n - 1).bit_length() - 1)
    return node_hash(ref_mth(leaves[:k]), ref_mth(leaves[k:]))


def ref_path(m: int, leaves: list[bytes]) -> list[bytes]:
    """PATH(m, D[n]) from RFC 6962 section 2.1.1."""
    n = len(leaves)
    if n == 1:
        return []
    k = 1 << ((n - 1).bit_length() - 1)
    if m < k:
        return [*ref_path(m, leaves[:k]), ref_mth(leaves[k:])]
    return [*ref_path(m - k, leaves[k:]), ref_mth(leaves[:k])]


def ref_subproof(m: int, leaves: list[bytes], b: bool) -> list[bytes]:
    """SUBPROOF(m, D[n], b) from RFC 6962 section 2.1.2."""
    n = len(leaves)
    if m == n:
        return [] if b else [ref_mth(leaves)]
    k = 1 << ((n - 1).bit_length() - 1)
    if m <= k:
        return [*ref_subproof(m, leaves[:k], b), ref_mth(leaves[k:])]
    return [*ref_subproof(m - k, leaves[k:], False), ref_mth(leaves[:k])]


def hashes(n: int) -> list[bytes]:
    return [leaf_hash(i.to_bytes(4, "big")) for i in range(n)]


def test_empty_tree_root_is_sha256_of_empty_string() -> None:
    assert hashlib.sha256(b"").digest() == EMPTY_ROOT
    assert merkle_root([]) == EMPTY_ROOT
    assert MerkleTree().root() == EMPTY_ROOT
    assert CompactRange().root() == EMPTY_ROOT


def test_ct_reference_tree_roots_for_every_size() -> None:
    leaves = [leaf_hash(d) for d in LEAF_INPUTS]
    tree = MerkleTree()
    rng = CompactRange()
    for size in range(9):
        assert merkle_root(leaves[:size]) == ROOTS[size]
        assert tree.root() == ROOTS[size]
        assert rng.root() == ROOTS[size]
        if size < 8:
            tree.append(leaves[size])
            rng.append(leaves[size])
    assert tree.root().hex() == "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"
    for size in range(9):
        assert tree.root(size) == ROOTS[size]


def test_leaf_and_node_domain_separation() -> None:
    assert leaf_hash(b"") == hashlib.sha256(b"\x00").digest()
    a, b = leaf_hash(b"a"), leaf_hash(b"b")
    assert node_hash(a, b) == hashlib.sha256(b"\x01" + a + b).digest()


def _b(value: str | None) -> bytes:
    return base64.b64decode(value) if value is not None else b""


def _probes(kind: str) -> list[Any]:
    files = sorted((DATA / kind).rglob("*.json"))
    assert len(files) > 50, f"test vectors for {kind} are missing"
    return [pytest.param(json.loads(f.read_text()), id=str(f.relative_to(DATA))) for f in files]


@pytest.mark.parametrize("probe", _probes("inclusion"))
def test_transparency_dev_inclusion_vectors(probe: dict[str, Any]) -> None:
    def check() -> None:
        verify_inclusion(
            probe["leafIdx"],
            probe["treeSize"],
            _b(probe["leafHash"]),
            [_b(h) for h in probe["proof"] or []],
            _b(probe["root"]),
        )

    if probe["wantErr"]:
        with pytest.raises(ProofError):
            check()
    else:
        check()


@pytest.mark.parametrize("probe", _probes("consistency"))
def test_transparency_dev_consistency_vectors(probe: dict[str, Any]) -> None:
    def check() -> None:
        verify_consistency(
            probe["size1"],
            probe["size2"],
            _b(probe["root1"]),
            _b(probe["root2"]),
            [_b(h) for h in probe["proof"] or []],
        )

    if probe["wantErr"]:
        with pytest.raises(ProofError):
            check()
    else:
        check()


def test_proofs_match_the_rfc_reference_for_all_small_trees() -> None:
    leaves = hashes(40)
    tree = MerkleTree(leaves)
    for n in range(1, 41):
        assert tree.root(n) == ref_mth(leaves[:n])
        for m in range(n):
            proof = tree.inclusion_proof(m, n)
            assert proof == ref_path(m, leaves[:n])
            verify_inclusion(m, n, leaves[m], proof, tree.root(n))
        for m in range(1, n + 1):
            proof = tree.consistency_proof(m, n)
            assert proof == ref_subproof(m, leaves[:n], True)


def test_consistency_between_every_pair_of_sizes_up_to_300() -> None:
    tree = MerkleTree(hashes(300))
    roots = [tree.root(n) for n in range(301)]
    for n in range(1, 301):
        for m in range(1, n + 1):
            verify_consistency(m, n, roots[m], roots[n], tree.consistency_proof(m, n))


def test_append_matches_bulk_build_and_compact_range() -> None:
    leaves = hashes(1025)
    tree = MerkleTree()
    rng = CompactRange()
    for i, h in enumerate(leaves):
        assert tree.append(h) == i
        rng.append(h)
        if i in (0, 1, 2, 6, 63, 64, 511, 1024):
            assert tree.root() == rng.root() == merkle_root(leaves[: i + 1])
    assert MerkleTree(leaves).root() == tree.root()
    rebuilt = CompactRange.from_nodes(rng.size, rng.nodes)
    rebuilt.append(leaves[0])
    rng.append(leaves[0])
    assert rebuilt.root() == rng.root()
    assert len(rng.nodes) == rng.size.bit_count()


def test_proof_sizes_are_logarithmic() -> None:
    tree = MerkleTree(hashes(1000))
    assert max(len(tree.inclusion_proof(i)) for i in range(1000)) <= 10
    assert len(tree.consistency_proof(1, 1000)) <= 2 * 10


def test_bad_arguments_are_input_errors() -> None:
    tree = MerkleTree(hashes(5))
    with pytest.raises(InputError):
        tree.inclusion_proof(5)
    with pytest.raises(InputError):
        tree.inclusion_proof(0, 6)
    with pytest.raises(InputError):
        tree.consistency_proof(0, 5)
    with pytest.raises(InputError):
        tree.consistency_proof(4, 3)
    with pytest.raises(InputError):
        tree.append(b"short")
    with pytest.raises(InputError):
        CompactRange.from_nodes(3, [leaf_hash(b"")])


def test_verifiers_refuse_wrong_shapes() -> None:
    leaves = hashes(7)
    tree = MerkleTree(leaves)
    proof = tree.inclusion_proof(3)
    root = tree.root()
    with pytest.raises(ProofError):
        verify_inclusion(7, 7, leaves[3], proof, root)
    with pytest.raises(ProofError):
        verify_inclusion(3, 7, leaves[3], [*proof, proof[0]], root)
    with pytest.raises(ProofError):
        verify_inclusion(3, 7, leaves[3], proof[:-1], root)
    with pytest.raises(ProofError):
        verify_inclusion(3, 7, leaves[3], [p[:31] for p in proof], root)
    with pytest.raises(ProofError):
        verify_inclusion(3, 7, leaves[4], proof, root)
    assert root_from_inclusion_proof(3, 7, leaves[3], proof) == root
    with pytest.raises(ProofError):
        verify_consistency(0, 7, EMPTY_ROOT, root, [])
    with pytest.raises(ProofError):
        verify_consistency(7, 7, root, root, [root])
    with pytest.raises(ProofError):
        verify_consistency(3, 7, tree.root(3), root, [])
