"""Match what a contract says against master data: buyer -> customer, model -> product.

Scores are :class:`difflib.SequenceMatcher` ratios (0..1) on the matching form
of both texts. A match is *chosen* only when it is clearly the best (score at
least the threshold and ahead of the runner-up by :data:`MIN_MARGIN`); anything
short of an exact match is shown with its candidates for a person to confirm.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence

import attrs

from orderflow.domain.master import Customer, Product
from orderflow.intake._text import normalise, normalise_model

__all__ = [
    "MIN_MARGIN",
    "Candidate",
    "MasterData",
    "Match",
    "match_customer",
    "match_product",
]

#: How far the best candidate must lead the runner-up to be chosen.
MIN_MARGIN = 0.1
_CUSTOMER_MIN = 0.85
_PRODUCT_MIN = 0.8
# legal-form suffixes are shared by most names and would inflate every score
_LEGAL_FORM = re.compile(r"(股份有限公司|有限责任公司|有限公司|集团|公司|厂)$")


@attrs.frozen
class Candidate:
    """A master-data record considered for a contract value, with its similarity score."""

    key: str
    label: str
    score: float


@attrs.frozen
class Match:
    """The outcome of matching one value: the chosen key (or ``None``) and the best candidates."""

    query: str
    chosen: str | None
    candidates: tuple[Candidate, ...]

    @property
    def exact(self) -> bool:
        """True when the chosen record matched with score 1."""
        return self.chosen is not None and bool(self.candidates) and self.candidates[0].score == 1


def _customers(value: Iterable[Customer]) -> tuple[Customer, ...]:
    return tuple(value)


def _products(value: Iterable[Product]) -> tuple[Product, ...]:
    return tuple(value)


@attrs.frozen
class MasterData:
    """The customers and products contracts are matched against."""

    customers: tuple[Customer, ...] = attrs.field(converter=_customers)
    products: tuple[Product, ...] = attrs.field(converter=_products)


def _core(name: str) -> str:
    return _LEGAL_FORM.sub("", normalise(name).casefold())


def _rank(query: str, records: Iterable[tuple[str, str, str]], minimum: float, top: int) -> Match:
    """``records`` are (key, label, matching form); ``query`` is already in matching form."""
    scored = []
    for key, label, form in records:
        score = 1.0 if form == query else difflib.SequenceMatcher(None, query, form).ratio()
        scored.append(Candidate(key, label, round(score, 4)))
    scored.sort(key=lambda c: (-c.score, c.key))
    best = scored[:top]
    chosen = None
    if best and best[0].score >= minimum:
        runner_up = best[1].score if len(best) > 1 else 0.0
        if best[0].score == 1 or best[0].score - runner_up >= MIN_MARGIN:
            chosen = best[0].key
    return Match(query, chosen, tuple(best))


def match_customer(name: str, customers: Sequence[Customer], top: int = 3) -> Match:
    """The customer named ``name`` (legal-form suffixes such as 有限公司 ignored)."""
    query = _core(name)
    return _rank(query, ((c.id, c.name, _core(c.name)) for c in customers), _CUSTOMER_MIN, top)


def match_product(model: str, products: Sequence[Product], top: int = 3) -> Match:
    """The product whose code (or name) is ``model``; OCR's O/0 and I/1 confusions undone."""
    query = normalise_model(model)
    records = []
    for p in products:
        records.append((p.code, p.name, normalise_model(p.code)))
    match = _rank(query, records, _PRODUCT_MIN, top)
    if match.chosen is None:  # some contracts write the product name instead of the code
        by_name = [(p.code, p.name, normalise(p.name).upper()) for p in products if p.name]
        exact = [r for r in by_name if r[2] == normalise(model).upper()]
        if len(exact) == 1:
            return Match(query, exact[0][0], (Candidate(exact[0][0], exact[0][1], 1.0),))
    return match
