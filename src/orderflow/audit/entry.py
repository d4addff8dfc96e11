"""Audit entries and their canonical encoding (stdlib only).

An entry is encoded once, as canonical JSON, and those exact bytes are stored
and hashed; verification never re-serialises. The encoding is a subset of
RFC 8785 (JCS): UTF-8, keys sorted, no insignificant whitespace, ASCII keys,
strings in Unicode NFC, integers within ``±2**53``, no floats (decimals are
strings). A first entry of an order has ``seq`` 0 and ``prev`` = 32 zero bytes;
every later entry names the leaf hash of its predecessor.

Example (one line in storage)::

    {"actor":"wang.li","at":1768000000000000,"changes":{},"ctx":{"device":"pda-7"},
    "from":"pending_review","idem":"req-81","log":"plant1.example/audit",
    "nonce":"9f…","order":"HY20260122-887","prev":"5a…","seq":1,
    "to":"kitting_locked","type":"state_change","v":1}
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import NamedTuple

from orderflow._entropy import random_bytes
from orderflow.audit.scalars import (
    MAX_INT,
    Scalar,
    _int,
    _json,
    _key,
    _ok,
    _plain,
    _quote,
    _scalar,
    _text,
)
from orderflow.exceptions import InputError

__all__ = [
    "FIRST_SEQ",
    "GENESIS_HASH",
    "SCHEMA_VERSION",
    "SUPPORTED_VERSIONS",
    "AuditEntry",
    "ChainHead",
    "EntryType",
    "FieldChange",
    "Scalar",
    "encode",
    "next_entry",
]

SCHEMA_VERSION = 2
"""Version written in the ``v`` field of every new entry.

The layout of an entry is the same in every version; the version says how its payload
(``changes`` and ``ctx``) reads. Version 1 (orderflow 0.1.0) kept a new order as a
positional row in the ``created`` entry; version 2 keeps it as named fields. Both verify
and replay (see the audit guide's payload table)."""

SUPPORTED_VERSIONS = (1, 2)
"""Entry versions this code verifies and replays."""

FIRST_SEQ = 0
"""Sequence number of the first entry of an order."""

GENESIS_HASH = bytes(32)
"""The ``prev`` hash of the first entry of an order: 32 zero bytes."""

NONCE_SIZE = 16
_ZERO_HEX = b"0" * 64


class EntryType(StrEnum):
    """What an entry records."""

    CREATED = "created"
    STATE_CHANGE = "state_change"
    FIELD_UPDATE = "field_update"
    EXCEPTION = "exception"
    POLICY_CHANGE = "policy_change"


_TYPES: dict[str, EntryType] = {t.value: t for t in EntryType}
_TYPE_TEXT: dict[str, str] = {t.value: f'"{t.value}"' for t in EntryType}


class FieldChange(NamedTuple):
    """One changed field: its name and the value before and after."""

    field: str
    old: Scalar
    new: Scalar


class ChainHead(NamedTuple):
    """The end of an order's chain: the last entry's ``seq`` and leaf hash."""

    seq: int
    leaf_hash: bytes


def _check_changes(changes: tuple[FieldChange, ...]) -> None:
    last = ""
    for change in changes:
        # the common case in one test: a FieldChange of an ASCII name after the last,
        # plain old and new values (what the full checks below accept unchanged)
        field = change[0] if type(change) is FieldChange else None
        if (
            type(field) is str
            and field > last
            and field.isascii()
            and _plain(change[1])
            and _plain(change[2])
        ):
            last = field
            continue
        if not isinstance(change, FieldChange):
            raise InputError(f"changes must be FieldChange values, got {change!r:.60}")
        _key(change.field, "changed field name")
        if change.field <= last:
            raise InputError("changes must be sorted by field name, without repeats")
        last = change.field
        for value, what in ((change.old, "old"), (change.new, "new")):
            if isinstance(value, Decimal):
                raise InputError("store decimals as text (next_entry converts them)")
            _scalar(value, f"{what} value of {change.field}")


def _check_context(context: tuple[tuple[str, str], ...]) -> None:
    last = ""
    for pair in context:
        if type(pair) is tuple and len(pair) == 2:
            # the common case in one test (an ASCII key after the last, ASCII text),
            # what the full checks below accept
            key, value = pair
            if (
                type(key) is str
                and key > last
                and key.isascii()
                and type(value) is str
                and value.isascii()
            ):
                last = key
                continue
        if not isinstance(pair, tuple) or len(pair) != 2:
            raise InputError(f"context items must be (key, text) pairs, got {pair!r:.60}")
        _key(pair[0], "context key")
        if pair[0] <= last:
            raise InputError("context must be sorted by key, without repeats")
        last = pair[0]
        _text(pair[1], f"context value {pair[0]}")


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditEntry:
    """One immutable audit record (R5): who changed what on which order, and when.

    Build entries with :func:`next_entry`; :func:`encode` gives the canonical
    bytes to store. ``at`` is integer microseconds since the Unix epoch (UTC).
    ``order_id`` names the chain: an order id, or a stream such as
    ``policy`` for policy changes or ``stock/<component>`` for warehouse scans.
    """

    origin: str
    order_id: str
    seq: int
    prev_hash: bytes
    type: EntryType
    actor: str
    at: int
    nonce: bytes
    from_state: str | None = None
    to_state: str | None = None
    changes: tuple[FieldChange, ...] = ()
    context: tuple[tuple[str, str], ...] = ()
    idempotency_key: str | None = None
    version: int = SCHEMA_VERSION

    def __post_init__(self) -> None:
        origin, order_id, actor = self.origin, self.order_id, self.actor
        if type(origin) is not str or not origin or not (origin.isascii() or _ok(origin)):
            _text(origin, "log origin")
            raise InputError("log origin must not be empty")
        if type(order_id) is not str or not order_id or not (order_id.isascii() or _ok(order_id)):
            _text(order_id, "order id")
            raise InputError("order id must not be empty")
        if type(actor) is not str or not (actor.isascii() or _ok(actor)):
            _text(actor, "actor")
        for value in (self.from_state, self.to_state, self.idempotency_key):
            if value is not None and (
                type(value) is not str or not (value.isascii() or _ok(value))
            ):
                _text(value, "from/to state and idempotency key")
        seq, at = self.seq, self.at
        if type(seq) is not int or not 0 <= seq <= MAX_INT:
            _int(seq, "seq")
        if type(at) is not int or not 0 <= at <= MAX_INT:
            _int(at, "timestamp (microseconds since the epoch)")
        prev, nonce = self.prev_hash, self.nonce
        if type(prev) is not bytes or len(prev) != 32:
            raise InputError("prev hash must be 32 bytes")
        if type(nonce) is not bytes or not 1 <= len(nonce) <= 64:
            raise InputError("nonce must be 1..64 bytes")
        if self.type.__class__ is not EntryType:
            raise InputError(f"type must be an EntryType, got {self.type!r:.60}")
        if self.changes:
            _check_changes(self.changes)
        if self.context:
            _check_context(self.context)
        if self.version not in SUPPORTED_VERSIONS:
            raise InputError(
                f"unsupported audit schema version {self.version!r}: this orderflow reads "
                f"versions {', '.join(map(str, SUPPORTED_VERSIONS))}; upgrade orderflow"
            )

    @property
    def changes_map(self) -> dict[str, tuple[Scalar, Scalar]]:
        """The field changes as ``{field: (old, new)}``."""
        return {c.field: (c.old, c.new) for c in self.changes}

    @property
    def context_map(self) -> dict[str, str]:
        """The context (device, batch, reason, ...) as a dict."""
        return dict(self.context)


def next_entry(
    head: ChainHead | None,
    *,
    origin: str,
    order_id: str,
    type: EntryType | str,
    actor: str,
    at: int,
    from_state: str | None = None,
    to_state: str | None = None,
    changes: Mapping[str, tuple[object, object]] | Iterable[FieldChange] = (),
    context: Mapping[str, str] | None = None,
    idempotency_key: str | None = None,
    nonce: bytes | None = None,
) -> AuditEntry:
    """Build the next entry of an order's chain.

    ``head`` is the order's last entry as a :class:`ChainHead` (its ``seq`` and
    leaf hash), or ``None`` for the order's first entry, which gets ``seq`` 0 and
    ``prev`` = :data:`GENESIS_HASH`. ``changes`` maps a field name to
    ``(old, new)``; :class:`~decimal.Decimal` values are stored as text, floats
    are refused. A fresh 16-byte random nonce is drawn unless one is given.

    Raises :class:`~orderflow.exceptions.InputError` for a value that cannot be
    encoded canonically.
    """
    if head is None:
        seq, prev = FIRST_SEQ, GENESIS_HASH
    else:
        seq, prev = head.seq + 1, head.leaf_hash
    items: tuple[FieldChange, ...] = ()
    if changes:
        pairs = (
            changes.items()
            if isinstance(changes, Mapping)
            else ((c.field, (c.old, c.new)) for c in changes)
        )
        # _plain values are kept as they are: no message is formatted for them
        items = tuple(
            sorted(
                FieldChange(
                    f,
                    old if _plain(old) else _scalar(old, f"old value of {f}"),
                    new if _plain(new) else _scalar(new, f"new value of {f}"),
                )
                for f, (old, new) in pairs
            )
        )
    kind = _TYPES.get(type) if isinstance(type, str) else None
    if kind is None:
        allowed = ", ".join(_TYPES)
        raise InputError(f"unknown entry type {type!r}; expected one of {allowed}")
    return AuditEntry(
        origin=origin,
        order_id=order_id,
        seq=seq,
        prev_hash=prev,
        type=kind,
        actor=actor,
        at=at,
        nonce=random_bytes(NONCE_SIZE) if nonce is None else nonce,
        from_state=from_state,
        to_state=to_state,
        changes=items,
        context=tuple(sorted(context.items())) if context else (),
        idempotency_key=idempotency_key,
    )


def encode(entry: AuditEntry) -> bytes:
    """The canonical bytes of ``entry``: store them and hash them verbatim."""
    if entry.changes:
        changes = (
            "{"
            + ",".join(
                f'{_quote(c.field)}:{{"new":{_json(c.new)},"old":{_json(c.old)}}}'
                for c in entry.changes
            )
            + "}"
        )
    else:
        changes = "{}"
    if entry.context:
        ctx = "{" + ",".join(f"{_quote(k)}:{_quote(v)}" for k, v in entry.context) + "}"
    else:
        ctx = "{}"
    q = _quote
    f, t, k = entry.from_state, entry.to_state, entry.idempotency_key
    text = (
        f'{{"actor":{q(entry.actor)},"at":{entry.at},"changes":{changes},"ctx":{ctx},'
        f'"from":{"null" if f is None else q(f)},"idem":{"null" if k is None else q(k)},'
        f'"log":{q(entry.origin)},"nonce":"{entry.nonce.hex()}",'
        f'"order":{q(entry.order_id)},"prev":"{entry.prev_hash.hex()}",'
        f'"seq":{entry.seq},"to":{"null" if t is None else q(t)},"type":{_TYPE_TEXT[entry.type]},'
        f'"v":{entry.version}}}'
    )
    return text.encode("utf-8")
