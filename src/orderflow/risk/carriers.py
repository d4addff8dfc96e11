"""Carriers as master data: which have a backup route when a typhoon closes the usual one.

A :class:`Carrier` is stored as a document (kind ``carrier``) through the one cattrs
converter; ``default_for`` lists the factories whose orders it carries unless the
submission names another carrier (``context={"carrier": code}``).
"""

from __future__ import annotations

import attrs

from orderflow.domain._checks import not_blank
from orderflow.ports import StoreTx
from orderflow.serialization import from_json, to_json

__all__ = ["CARRIER", "Carrier", "carrier_for", "get_carrier", "write_carrier"]

CARRIER = "carrier"
"""Document kind of carrier master data (key: the carrier code)."""


@attrs.frozen
class Carrier:
    """A logistics carrier and whether it has a backup route (R13 rule 3)."""

    code: str = attrs.field(validator=not_blank)
    name: str = ""
    backup_route: bool = False
    """True when the carrier can re-route (another port, road or rail) if typhoons close one."""
    default_for: tuple[str, ...] = ()
    """Factories whose orders this carrier takes unless the submission names another."""


def write_carrier(tx: StoreTx, carrier: Carrier) -> None:
    """Create or replace a carrier."""
    tx.put_doc(CARRIER, carrier.code, to_json(carrier))


def get_carrier(tx: StoreTx, code: str) -> Carrier | None:
    """The carrier with ``code``, if on record."""
    body = tx.get_doc(CARRIER, code)
    return None if body is None else from_json(body, Carrier)


def carrier_for(
    tx: StoreTx, factory_id: str, named: str | None
) -> tuple[str | None, Carrier | None]:
    """``(code, record)`` of the order's carrier: the one named, else the factory's default.

    The code is returned even when no record exists (the rule then knows no backup route).
    """
    if named:
        return named, get_carrier(tx, named)
    for _, body in tx.docs(CARRIER):
        carrier = from_json(body, Carrier)
        if factory_id in carrier.default_for:
            return carrier.code, carrier
    return None, None
