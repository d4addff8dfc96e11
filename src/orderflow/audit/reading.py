"""Reading stored audit entries back: the strict :func:`decode` (the bytes must be the
canonical encoding of the entry they describe) and the cheap :func:`entry_link`.

Split from :mod:`orderflow.audit.entry`, which builds and encodes entries.
"""

from __future__ import annotations

import json

from orderflow.audit.entry import AuditEntry, EntryType, FieldChange, encode
from orderflow.exceptions import InputError

__all__ = ["decode", "entry_link"]


_KEYS: tuple[str, ...] = ("actor", "at", "changes", "ctx", "from", "idem", "log", "nonce")
_KEYS += ("order", "prev", "seq", "to", "type", "v")


def _no_float(text: str) -> object:
    raise ValueError(f"floats are not allowed in audit entries: {text}")


def _pairs(pairs: list[tuple[str, object]]) -> dict[str, object]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise ValueError("duplicate key")
    return result


# json.loads with these options built a new decoder (and scanner) per call; this one is
# used as json.loads uses its own default decoder, shared (it keeps no state between
# calls)
_DECODER = json.JSONDecoder(
    parse_float=_no_float, parse_constant=_no_float, object_pairs_hook=_pairs
)


def _loads(text: str) -> object:
    """``json.loads(text, ...)`` with ``_DECODER``'s options: the same result or error."""
    if text.startswith("\ufeff"):  # json.loads refuses it before decoding: let it say so
        return json.loads(
            text, parse_float=_no_float, parse_constant=_no_float, object_pairs_hook=_pairs
        )
    return _DECODER.decode(text)


def decode(data: bytes) -> AuditEntry:
    """Parse stored bytes back into an :class:`AuditEntry`.

    Strict: the bytes must be exactly the canonical encoding of the entry they
    describe. Raises :class:`~orderflow.exceptions.InputError` otherwise.
    """
    try:
        obj = _loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise InputError(f"audit entry is not canonical JSON: {exc}") from None
    if not isinstance(obj, dict) or tuple(sorted(obj)) != tuple(sorted(_KEYS)):
        raise InputError("audit entry does not have exactly the fields of an audit entry")
    try:
        changes_obj = obj["changes"]
        ctx_obj = obj["ctx"]
        if not isinstance(changes_obj, dict) or not isinstance(ctx_obj, dict):
            raise InputError("changes and ctx must be objects")
        changes = []
        for field, value in changes_obj.items():
            if not isinstance(value, dict) or sorted(value) != ["new", "old"]:
                raise InputError(f"change of {field!r} must be an object with old and new")
            changes.append(FieldChange(field, value["old"], value["new"]))
        for name in ("nonce", "prev"):
            if not isinstance(obj[name], str):
                raise InputError(f"{name} must be hex text")
        try:
            kind = EntryType(obj["type"])
        except ValueError:
            raise InputError(f"unknown entry type {obj['type']!r}") from None
        entry = AuditEntry(
            origin=obj["log"],
            order_id=obj["order"],
            seq=obj["seq"],
            prev_hash=bytes.fromhex(obj["prev"]),
            type=kind,
            actor=obj["actor"],
            at=obj["at"],
            nonce=bytes.fromhex(obj["nonce"]),
            from_state=obj["from"],
            to_state=obj["to"],
            changes=tuple(changes),
            context=tuple(ctx_obj.items()),
            idempotency_key=obj["idem"],
            version=obj["v"],
        )
    except ValueError as exc:  # InputError is a ValueError; bytes.fromhex raises ValueError
        if isinstance(exc, InputError):
            raise
        raise InputError(f"audit entry has a malformed field: {exc}") from None
    if encode(entry) != data:
        raise InputError("audit entry bytes are not in canonical form")
    return entry


def entry_link(data: bytes) -> tuple[bytes, int, bytes]:
    """Cheaply read ``(order id, seq, prev hash)`` from stored entry bytes.

    The order id is returned as its JSON-escaped UTF-8 bytes (a stable key,
    without a full parse). It relies on the canonical key order: ``order``,
    ``prev`` and ``seq`` are the last fields before ``to``, whose values cannot
    contain an unescaped quote. Raises :class:`~orderflow.exceptions.InputError`
    if the bytes do not have that shape.
    """
    i = data.rfind(b',"order":"')
    j = data.find(b'","prev":"', i)
    k = j + 82
    end = data.find(b",", k)
    if i < 0 or j < 0 or data[j + 74 : k] != b'","seq":' or end < 0:
        raise InputError("audit entry does not have the canonical order/prev/seq layout")
    try:
        return data[i + 10 : j], int(data[k:end]), bytes.fromhex(data[j + 10 : j + 74].decode())
    except (ValueError, UnicodeDecodeError):
        raise InputError("audit entry has a malformed prev hash or seq") from None
