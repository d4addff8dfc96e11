"""Facts about a store that belong to its log, not to a connection: origin and slip key.

The log's origin is written into every entry and every checkpoint; it is stored when the
log is created, and a later connection that names another origin is refused (a
checkpoint under the wrong name would be signed as if it were another log's).

Paper slips carry a 6-digit code (R11). It is derived, never stored or logged in clear:
``HMAC-SHA256(slip key, order id)`` reduced to six digits, under a random key kept in the
store. A slip can be reprinted with the same code; the code appears in no audit entry,
bundle, export or log line.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from orderflow.audit import decode
from orderflow.exceptions import StoreError
from orderflow.ports import Store, StoreTx

__all__ = ["META", "bind_origin", "slip_code", "slip_key", "stored_origin"]

META = "meta"
"""Document kind of the log's own facts (keys ``origin`` and ``slip_key``)."""


def stored_origin(store: Store) -> str | None:
    """The origin the log was created with; for a 0.1.0 file, the one in its first entry."""
    with store.transaction() as tx:
        stored = tx.get_doc(META, "origin")
    if stored is not None:
        return stored
    first = store.audit_entries(0, 1)
    return decode(first[0]).origin if first else None


def bind_origin(store: Store) -> None:
    """Store the log's origin on first use; refuse a store opened under another origin.

    Raises :class:`~orderflow.StoreError` naming both origins.
    """
    known = stored_origin(store)
    if known is not None and known != store.origin:
        raise StoreError(
            f"this database's audit log has origin {known!r}, not {store.origin!r}: the "
            "origin belongs to the log; connect without origin= (or with the stored one)"
        )
    with store.transaction() as tx:
        if tx.get_doc(META, "origin") is None:
            tx.put_doc(META, "origin", store.origin)


def slip_key(tx: StoreTx) -> bytes:
    """The store's slip key, made on first use (32 random bytes)."""
    body = tx.get_doc(META, "slip_key")
    if body is None:
        body = secrets.token_hex(32)
        tx.put_doc(META, "slip_key", body)
    return bytes.fromhex(body)


def slip_code(key: bytes, order_id: str) -> str:
    """The 6-digit slip code of an order under ``key``."""
    digest = hmac.new(key, order_id.encode("utf-8"), hashlib.sha256).digest()
    return f"{int.from_bytes(digest[:8], 'big') % 1_000_000:06d}"
