"""Whole-log verification: what an auditor runs over the stored bytes in global order.

:func:`verify_log` hashes every entry verbatim, checks every per-order link (``seq``
and ``prev``) and the root against trusted checkpoints; on failure it raises
:class:`~orderflow.exceptions.TamperDetected` naming the first bad entry and the kind
of damage. Without a checkpoint it can only check internal consistency: truncating the
tail, or rewriting an order's last entry, needs a checkpoint to be caught. Given the
log as a stream (and a way to read it again), it keeps only the chain heads and a
compact range of the tree, so a year's log verifies in bounded memory; the stored
bytes are read again only to diagnose a failure.
"""

from __future__ import annotations

import binascii
import hashlib
import json
from collections.abc import Callable, Iterable, Iterator, Sequence

from orderflow.audit.checkpoint import Checkpoint
from orderflow.audit.entry import FIRST_SEQ, GENESIS_HASH
from orderflow.audit.merkle import CompactRange, _build_levels, _root_from_levels
from orderflow.audit.reading import decode, entry_link
from orderflow.exceptions import InputError, TamperDetected

__all__ = ["verify_log"]

_sha256 = hashlib.sha256


def verify_log(
    stored: Iterable[bytes],
    expected_checkpoint: Checkpoint | None = None,
    *,
    checkpoints: Iterable[Checkpoint] = (),
    origin: str | None = None,
    stored_leaves: Iterable[bytes] | None = None,
    reread: Callable[[], tuple[Sequence[bytes], Sequence[bytes] | None]] | None = None,
) -> Checkpoint:
    """Verify a whole log from its stored bytes in global order; return its checkpoint.

    Every entry is hashed verbatim, every per-order link (``seq`` and ``prev``)
    is checked, and the root at each trusted checkpoint's size is compared
    (``expected_checkpoint`` plus any older ``checkpoints``, which narrow down
    where a root mismatch lies). Entries beyond the largest checkpoint are
    checked for chain consistency only. ``stored_leaves`` are the leaf hashes a
    store keeps beside the entries: each must equal the hash of its entry's bytes,
    which catches a changed entry even where no later entry links to it.

    With ``reread``, ``stored`` (and ``stored_leaves``) may be one-pass streams
    (chunks read from a store): only the chain heads and a compact range of the tree
    are kept (the roots at the checkpoints' sizes are taken on the way), and
    ``reread()`` (the whole log and its stored leaves again, as sequences) is called
    only when something fails, to name the first bad entry.

    Raises :class:`~orderflow.exceptions.TamperDetected` with the first bad
    index and a ``kind``: ``edited``, ``missing``, ``reordered``,
    ``duplicated``, ``truncated`` or ``root_mismatch``.
    """
    trusted = sorted(
        [*checkpoints, *([expected_checkpoint] if expected_checkpoint else [])],
        key=lambda c: c.size,
    )
    if reread is not None and not isinstance(stored, list):
        streamed = _streamed(stored, stored_leaves, {cp.size for cp in trusted})
        if streamed is None:  # something is wrong: diagnose it on the whole log
            data, kept = reread()
            return verify_log(list(data), expected_checkpoint, checkpoints=checkpoints,
                              origin=origin, stored_leaves=kept)  # fmt: skip
        size, roots, first = streamed
        return _check_roots(size, roots.__getitem__, trusted, expected_checkpoint, origin, first)
    data = stored if isinstance(stored, list) else list(stored)
    sha = hashlib.sha256
    leaves = [sha(b"\x00" + d).digest() for d in data]
    if stored_leaves is not None and not isinstance(stored_leaves, Sequence):
        stored_leaves = list(stored_leaves)
    leaf_error = None if stored_leaves is None else _leaf_mismatch(data, leaves, stored_leaves)
    bad = _fast_chain_check(zip(data, leaves, strict=True))
    if bad is not None:
        found = _diagnose(data, leaves) or TamperDetected(
            bad, "edited", "entry does not continue its order's chain"
        )
        found = _first_malformed(data, found.first_bad_index) or found
        if leaf_error is not None and leaf_error.first_bad_index < found.first_bad_index:
            raise leaf_error
        raise found
    if leaf_error is not None:
        raise leaf_error
    levels = _build_levels(leaves)
    return _check_roots(len(data), lambda n: _root_from_levels(levels, n), trusted,
                        expected_checkpoint, origin, data[0] if data else None)  # fmt: skip


def _streamed(
    stored: Iterable[bytes], stored_leaves: Iterable[bytes] | None, sizes: set[int]
) -> tuple[int, dict[int, bytes], bytes | None] | None:
    """One pass over a streamed log: its size, its roots at ``sizes`` and at its end, and
    its first entry; ``None`` if an entry breaks its chain or differs from its stored
    leaf (the caller diagnoses on the whole log)."""
    tree = CompactRange()
    roots: dict[int, bytes] = {0: tree.root()} if 0 in sizes else {}
    first: list[bytes] = []
    mismatch: list[int] = []
    sha = hashlib.sha256
    kept = None if stored_leaves is None else iter(stored_leaves)

    def hashed() -> Iterator[tuple[bytes, bytes]]:
        for d in stored:
            leaf = sha(b"\x00" + d).digest()
            if kept is not None and next(kept, None) != leaf:
                mismatch.append(tree.size)
                return
            if not first:
                first.append(d)
            tree.append(leaf)
            if tree.size in sizes:
                roots[tree.size] = tree.root()
            yield d, leaf

    if _fast_chain_check(hashed()) is not None or mismatch:
        return None
    if kept is not None and next(kept, None) is not None:
        return None  # more stored leaves than entries
    roots[tree.size] = tree.root()
    return tree.size, roots, (first[0] if first else None)


def _check_roots(
    size: int,
    root_at: Callable[[int], bytes],
    trusted: list[Checkpoint],
    expected_checkpoint: Checkpoint | None,
    origin: str | None,
    first: bytes | None,
) -> Checkpoint:
    """Compare the log's roots (``root_at(n)``: the root of its first ``n`` entries) with
    every trusted checkpoint, smallest first; return the log's own checkpoint."""
    verified = 0
    for cp in trusted:
        if cp.size > size:
            raise TamperDetected(
                size,
                "truncated",
                f"the log has {size} entries but checkpoint {cp.origin} commits to "
                f"{cp.size}; entries were deleted or cut off",
            )
        if root_at(cp.size) != cp.root:
            raise TamperDetected(
                verified,
                "root_mismatch",
                f"entries {verified}..{cp.size - 1} do not reproduce the root of the "
                f"checkpoint at size {cp.size} (edited, replaced or reordered across orders)",
            )
        verified = cp.size
    if expected_checkpoint is not None:
        name = expected_checkpoint.origin
    elif origin is not None:
        name = origin
    elif first is not None:
        name = _origin_of(first)
    else:
        raise InputError("an empty log has no origin: pass origin= or expected_checkpoint=")
    return Checkpoint(name, size, root_at(size))


def _leaf_mismatch(
    data: Sequence[bytes], leaves: Sequence[bytes], stored: Sequence[bytes]
) -> TamperDetected | None:
    """The first entry whose bytes no longer hash to the leaf stored beside it."""
    if len(stored) != len(data):
        return TamperDetected(
            min(len(stored), len(data)),
            "missing",
            f"the store holds {len(data)} entries but {len(stored)} leaf hashes",
        )
    if list(stored) == list(leaves):  # one C-level comparison on the common path
        return None
    i = next(i for i, (a, b) in enumerate(zip(leaves, stored, strict=True)) if a != b)
    return _first_malformed(data, i) or TamperDetected(
        i, "edited", f"entry {i}'s bytes no longer hash to the leaf stored beside it"
    )


def _origin_of(data: bytes) -> str:
    try:
        return decode(data).origin
    except InputError as exc:
        raise TamperDetected(0, "edited", str(exc)) from None


def _fast_chain_check(entries: Iterable[tuple[bytes, bytes]]) -> int | None:
    """Index of the first ``(bytes, leaf)`` that breaks its order's chain, or ``None``.

    Reads order id, prev and seq straight from the canonical bytes (no JSON
    parse); about three times faster than ``json.loads`` per entry.
    """
    heads: dict[bytes, tuple[int, bytes]] = {}
    get = heads.get
    unhex = binascii.unhexlify
    zero = GENESIS_HASH
    for i, (d, leaf) in enumerate(entries):
        j = d.rfind(b',"order":"')
        k = d.find(b'","prev":"', j)
        e = d.find(b",", k + 82)
        if j < 0 or k < 0 or e < 0:
            return i
        key = d[j + 10 : k]
        try:
            seq = int(d[k + 82 : e])
            prev = unhex(d[k + 10 : k + 74])
        except (ValueError, binascii.Error):
            return i
        last = get(key)
        if last is None:
            if seq != 0 or prev != zero:
                return i
        elif seq != last[0] + 1 or prev != last[1]:
            return i
        heads[key] = (seq, leaf)
    return None


def _first_malformed(data: Sequence[bytes], upto: int) -> TamperDetected | None:
    """The first entry up to ``upto`` that is not a canonical entry (slow path only)."""
    for i in range(min(upto + 1, len(data))):
        try:
            decode(data[i])
        except InputError as exc:
            return TamperDetected(i, "edited", str(exc))
    return None


def _show(key: bytes) -> str:
    try:
        value = json.loads(b'"' + key + b'"')
    except ValueError:
        return repr(key)
    return str(value)


def _diagnose(data: Sequence[bytes], leaves: Sequence[bytes]) -> TamperDetected | None:
    """Find and classify the first bad entry (slow path, only after a failure)."""
    links: list[tuple[bytes, int, bytes] | None] = []
    for d in data:
        try:
            links.append(entry_link(d))
        except InputError:
            links.append(None)
    positions: dict[tuple[bytes, int], list[int]] = {}
    for i, link in enumerate(links):
        if link is not None:
            positions.setdefault((link[0], link[1]), []).append(i)

    def after(key: bytes, seq: int, i: int) -> int | None:
        return next((p for p in positions.get((key, seq), ()) if p > i), None)

    seen: dict[bytes, int] = {}
    heads: dict[bytes, tuple[int, bytes, int]] = {}
    for i, h in enumerate(leaves):
        if h in seen:
            return TamperDetected(
                i, "duplicated", f"entry {i} repeats entry {seen[h]} byte for byte"
            )
        seen[h] = i
        link = links[i]
        if link is None:
            return TamperDetected(i, "edited", "not a canonical audit entry (layout broken)")
        key, seq, prev = link
        name = _show(key)
        head = heads.get(key)
        exp_seq, exp_prev = (FIRST_SEQ, GENESIS_HASH) if head is None else (head[0] + 1, head[1])
        if seq == exp_seq and prev == exp_prev:
            heads[key] = (seq, h, i)
            continue
        if seq == exp_seq:
            if head is None:
                return TamperDetected(
                    i, "edited", f"first entry of order {name} does not start from the zero hash"
                )
            nxt = after(key, seq + 1, i)
            nxt_link = links[nxt] if nxt is not None else None
            if nxt_link is not None and nxt_link[2] == h:
                return TamperDetected(
                    head[2],
                    "edited",
                    f"order {name} seq {head[0]}: its hash no longer matches the link in entry {i}",
                )
            if nxt is not None:
                return TamperDetected(
                    i,
                    "edited",
                    f"order {name} seq {seq}: links neither back to entry {head[2]} "
                    f"nor forward from entry {nxt}",
                )
            return TamperDetected(
                head[2],
                "edited",
                f"order {name}: the link from seq {seq} (entry {i}) to seq {head[0]} "
                f"(entry {head[2]}) is broken; one of the two was changed",
            )
        if prev == exp_prev:
            return TamperDetected(
                i, "edited", f"order {name}: entry has seq {seq} where {exp_seq} is due"
            )
        p = seen.get(prev)
        p_link = links[p] if p is not None else None
        if p_link is not None and p_link[0] != key:
            return TamperDetected(
                i,
                "edited",
                f"entry names order {name} but links to entry {p} of order {_show(p_link[0])}",
            )
        if seq > exp_seq:
            later = after(key, exp_seq, i)
            if later is not None:
                return TamperDetected(
                    i,
                    "reordered",
                    f"order {name}: seq {seq} comes before seq {exp_seq} (entry {later})",
                )
            gap = f"seq {exp_seq}" if seq == exp_seq + 1 else f"seq {exp_seq}..{seq - 1}"
            return TamperDetected(i, "missing", f"order {name}: {gap} missing before entry {i}")
        earlier = [p for p in positions.get((key, seq), ()) if p < i]
        if earlier:
            return TamperDetected(
                i, "duplicated", f"order {name}: a second seq {seq} (first at entry {earlier[0]})"
            )
        return TamperDetected(
            i, "reordered", f"order {name}: seq {seq} comes after seq {exp_seq - 1}"
        )
    return None
