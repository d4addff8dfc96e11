"""What one contract intake produces: a draft, what to check, and where it came from (R12)."""

from __future__ import annotations

import attrs

from orderflow.geo.geocoder import Geocoded
from orderflow.intake.matching import Match
from orderflow.intake.model import Contract, Region
from orderflow.service.orders import OrderDraft

__all__ = ["REASONS", "IntakeResult", "ReviewItem"]

#: Why a field needs a person's look.
REASONS: dict[str, str] = {
    "missing": "未识别到 / not found on the contract",
    "low_confidence": "识别置信度低 / recognised with low confidence",
    "no_match": "主数据中无匹配 / matches no master-data record",
    "fuzzy_match": "近似匹配，请确认 / only a close match, confirm it",
    "amount_mismatch": "金额 ≠ 数量 × 单价 / amount is not quantity x unit price",
    "no_signature": "未见签字盖章页 / no signature or seal page",
    "unknown_address": "地址无法定位 / the address cannot be placed",
    "no_factory": "无可生产工厂 / no factory can take this order",
}


@attrs.frozen
class ReviewItem:
    """One field a person must check before submitting, with why and where to look."""

    field: str
    """Field path, e.g. ``buyer``, ``lines[1].qty``."""
    reason: str
    """A key of :data:`REASONS`."""
    message: str
    """Bilingual explanation (zh-CN first) naming the value read and what to do."""
    region: Region | None = None


@attrs.frozen
class IntakeResult:
    """A contract photo turned into an order draft; never submitted automatically.

    ``draft`` is ``None`` when a required part (customer, product of every
    line, quantity, requested date, factory) could not be determined; the
    ``review`` items then say what is missing. A draft that exists may still
    need review: submit it (``OrderService.submit``) only once ``review`` is
    empty or every item was checked.
    """

    draft: OrderDraft | None
    contract: Contract
    review: tuple[ReviewItem, ...]
    customer: Match | None
    products: tuple[Match | None, ...]
    geocoded: Geocoded | None
    route: str
    """The router's explanation of the factory choice (empty when not routed)."""
    image_sha256: tuple[str, ...]
    """SHA-256 (hex) of each page image as received, in page order, for the audit trail."""
    sources: tuple[str, ...] = ()
    """Where each page came from (file names), in page order."""

    @property
    def needs_review(self) -> bool:
        """True when at least one field must be checked by a person."""
        return bool(self.review)

    @property
    def audit_context(self) -> dict[str, str]:
        """What the order's ``created`` entry records of its source when submitted with
        ``service.submit(result.draft, actor=..., context=result.audit_context)``: that it
        came from a contract photo, and each page's SHA-256 (never the image)."""
        return {"intake": "contract_photo", "intake.sha256": ",".join(self.image_sha256)}
