"""Score an :class:`~orderflow.intake.result.IntakeResult` against synthetic ground truth.

A field is *right* when the value read equals the truth; *flagged* when a
review item names it. A wrong field that is not flagged is *silent*: the one
outcome intake must not produce on a clean contract.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import attrs

from orderflow.intake.result import IntakeResult
from orderflow.intake.synthetic import ContractTruth

__all__ = ["FieldScore", "score"]

_LINE_FIELDS = ("model", "qty", "unit", "unit_price", "amount")


@attrs.frozen
class FieldScore:
    """The outcome for one field of one contract."""

    field: str
    """Field kind (``buyer``, ``qty``, ...); line fields without their index."""
    path: str
    right: bool
    flagged: bool
    read: str
    truth: str

    @property
    def silent(self) -> bool:
        """Wrong and not flagged for review."""
        return not self.right and not self.flagged


def _pairs(result: IntakeResult, truth: ContractTruth) -> Iterator[tuple[str, str, Any, Any]]:
    c = result.contract
    customer = result.customer.chosen if result.customer else None
    yield "buyer", "buyer", customer, truth.buyer_id
    yield "seller", "seller", c.seller.value, truth.seller
    yield "number", "number", c.number.value, truth.number
    yield "delivery_address", "delivery_address", c.delivery_address.value, truth.delivery_address
    yield "requested_date", "requested_date", c.requested_date.value, truth.requested_date
    yield "signature", "signature", c.signature.value, truth.signature
    for i in range(max(len(c.lines), len(truth.lines))):
        got = c.lines[i] if i < len(c.lines) else None
        want = truth.lines[i] if i < len(truth.lines) else None
        product = result.products[i] if i < len(result.products) else None
        for name in _LINE_FIELDS:
            if name == "model":
                value = product.chosen if product is not None else None
            else:
                value = getattr(got, name).value if got is not None else None
            yield name, f"lines[{i}].{name}", value, getattr(want, name) if want else None


def score(result: IntakeResult, truth: ContractTruth) -> list[FieldScore]:
    """One :class:`FieldScore` per field of the truth (and per extra line read)."""
    flagged_paths = {item.field for item in result.review}
    lines_flagged = "lines" in flagged_paths
    out = []
    for kind, path, value, want in _pairs(result, truth):
        flagged = path in flagged_paths or (lines_flagged and path.startswith("lines"))
        if path == "buyer":
            flagged = flagged or "buyer" in flagged_paths
        out.append(FieldScore(kind, path, value == want, flagged, str(value), str(want)))
    return out
