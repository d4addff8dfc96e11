"""Contract photos -> :class:`~orderflow.intake.result.IntakeResult` (R12).

:class:`ContractIntake` runs the OCR port on each page, parses the lines,
detects red seals, matches buyer and models against master data, places the
address with the geocoder and routes it to a factory. It never submits: the
caller shows the draft and the review items to a person, who submits it
through the ordinary service.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from orderflow.domain.order import OrderLine
from orderflow.exceptions import GeoError, InputError, UnknownAddress
from orderflow.geo.geocoder import Geocoded, Geocoder
from orderflow.geo.router import Router
from orderflow.intake.matching import MasterData, Match, match_customer, match_product
from orderflow.intake.model import Contract, Field, Region
from orderflow.intake.parser import parse_contract
from orderflow.intake.ports import OcrEngine
from orderflow.intake.result import REASONS, IntakeResult, ReviewItem
from orderflow.intake.seal import find_seals
from orderflow.service.orders import OrderDraft

__all__ = ["DEFAULT_MIN_CONFIDENCE", "ContractIntake"]

#: Fields read with a lower confidence are flagged for review.
DEFAULT_MIN_CONFIDENCE = 0.9


def _item(path: str, reason: str, detail: str, field: Field[Any] | None = None) -> ReviewItem:
    message = f"{REASONS[reason]}: {detail}" if detail else REASONS[reason]
    return ReviewItem(path, reason, message, field.region if field else None)


class ContractIntake:
    """Turns the page photos of one contract into an :class:`IntakeResult`.

    ``router`` may be ``None`` (single-factory plants): the draft then uses
    ``default_factory``. ``seal_detector(image, page)`` finds the red seals on
    a page (default: :func:`~orderflow.intake.seal.find_seals`).
    """

    def __init__(
        self,
        engine: OcrEngine,
        master: MasterData,
        geocoder: Geocoder,
        router: Router | None = None,
        *,
        default_factory: str = "",
        min_confidence: float = DEFAULT_MIN_CONFIDENCE,
        seal_detector: Callable[[bytes, int], Sequence[Region]] = find_seals,
    ) -> None:
        if router is None and not default_factory:
            raise InputError("give a router or a default_factory so drafts get a factory")
        self._engine = engine
        self._master = master
        self._geocoder = geocoder
        self._router = router
        self._default_factory = default_factory
        self._min_confidence = min_confidence
        self._seal = seal_detector

    def read_files(self, paths: Sequence[str | Path]) -> IntakeResult:
        """Read the pages stored at ``paths`` (in page order)."""
        if not paths:
            raise InputError("no contract pages given: pass at least one photo")
        images = []
        for path in paths:
            try:
                images.append(Path(path).read_bytes())
            except OSError as exc:
                raise InputError(f"cannot read contract photo {str(path)!r}: {exc}") from exc
        return self.read(images, sources=[str(p) for p in paths])

    def read(self, images: Sequence[bytes], sources: Sequence[str] = ()) -> IntakeResult:
        """Read one contract from its encoded page images (in page order)."""
        if not images:
            raise InputError("no contract pages given: pass at least one photo")
        pages = [self._engine.read(image) for image in images]
        seals = [self._seal(image, page) for page, image in enumerate(images)]
        contract = parse_contract(pages, seals)
        return self.assess(contract, [hashlib.sha256(i).hexdigest() for i in images], sources)

    def assess(
        self, contract: Contract, image_sha256: Sequence[str], sources: Sequence[str] = ()
    ) -> IntakeResult:
        """Match a parsed contract against master data, route it and list what to review."""
        review: list[ReviewItem] = []
        self._check_fields(contract, review)
        customer = None
        if contract.buyer.value is not None:
            customer = match_customer(contract.buyer.value, self._master.customers)
            self._check_match("buyer", customer, contract.buyer, review)
        products: list[Match | None] = []
        for i, line in enumerate(contract.lines):
            match = None
            if line.model.value is not None:
                match = match_product(line.model.value, self._master.products)
                self._check_match(f"lines[{i}].model", match, line.model, review)
            products.append(match)
            if line.amount_consistent is False:
                detail = f"{line.qty.value} x {line.unit_price.value} != {line.amount.value}"
                review.append(_item(f"lines[{i}].amount", "amount_mismatch", detail, line.amount))
        geocoded, factory, route = self._place(contract, products, review)
        draft = self._draft(contract, customer, products, factory)
        return IntakeResult(
            draft,
            contract,
            tuple(review),
            customer,
            tuple(products),
            geocoded,
            route,
            tuple(image_sha256),
            tuple(sources),
        )

    def _check_fields(self, contract: Contract, review: list[ReviewItem]) -> None:
        fields: list[tuple[str, Field[Any]]] = [
            ("buyer", contract.buyer),
            ("seller", contract.seller),
            ("number", contract.number),
            ("delivery_address", contract.delivery_address),
            ("requested_date", contract.requested_date),
        ]
        for i, line in enumerate(contract.lines):
            for name in ("model", "qty", "unit", "unit_price", "amount"):
                fields.append((f"lines[{i}].{name}", getattr(line, name)))
        if not contract.lines:
            review.append(_item("lines", "missing", "没有产品行 / no product lines"))
        for path, field in fields:
            if field.value is None:
                review.append(_item(path, "missing", "", field))
            elif field.confidence < self._min_confidence:
                detail = f"{field.value} ({field.confidence:.2f} < {self._min_confidence})"
                review.append(_item(path, "low_confidence", detail, field))
        sig = contract.signature
        if sig.value is False:
            review.append(_item("signature", "no_signature", "请补拍签字盖章页 / add the page"))
        elif sig.confidence < self._min_confidence:
            detail = "只见签字栏或印章之一 / only a signature block or only a seal"
            review.append(_item("signature", "low_confidence", detail, sig))

    @staticmethod
    def _check_match(path: str, match: Match, field: Field[Any], review: list[ReviewItem]) -> None:
        shown = ", ".join(f"{c.key} {c.label} ({c.score:.2f})" for c in match.candidates)
        if match.chosen is None:
            review.append(_item(path, "no_match", f"{match.query!r}; candidates: {shown}", field))
        elif not match.exact:
            review.append(_item(path, "fuzzy_match", f"{match.query!r} -> {shown}", field))

    def _place(
        self, contract: Contract, products: Sequence[Match | None], review: list[ReviewItem]
    ) -> tuple[Geocoded | None, str | None, str]:
        address = contract.delivery_address
        if address.value is None:
            return None, self._default_factory or None, ""
        try:
            geocoded = self._geocoder.geocode(address.value)
        except UnknownAddress:
            review.append(_item("delivery_address", "unknown_address", address.value, address))
            return None, self._default_factory or None, ""
        if self._router is None:
            return geocoded, self._default_factory, ""
        codes = [m.chosen for m in products if m is not None and m.chosen is not None]
        try:
            route = self._router.route(geocoded.position, codes[0] if codes else None)
        except GeoError as exc:
            review.append(_item("factory", "no_factory", str(exc), address))
            return geocoded, None, ""
        factory = self._router.factory(route.factory_id)
        for code in codes[1:]:
            if not factory.makes(code):
                detail = f"{route.factory_id} does not make {code}; split the order"
                review.append(_item("factory", "no_factory", detail, address))
        return geocoded, route.factory_id, route.explain()

    @staticmethod
    def _draft(
        contract: Contract,
        customer: Match | None,
        products: Sequence[Match | None],
        factory: str | None,
    ) -> OrderDraft | None:
        date = contract.requested_date.value
        if customer is None or customer.chosen is None or date is None or not factory:
            return None
        lines = []
        for line, match in zip(contract.lines, products, strict=True):
            qty = line.qty.value
            if match is None or match.chosen is None or qty is None or qty <= 0:
                return None
            lines.append(OrderLine(match.chosen, qty, line.unit_price.value or 0))
        if not lines:
            return None
        return OrderDraft(
            customer.chosen,
            tuple(lines),
            date,
            factory,
            delivery_address=contract.delivery_address.value or "",
        )
