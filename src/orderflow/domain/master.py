"""Master data: customers, components, products and their bills of material (R1)."""

from __future__ import annotations

import enum
from decimal import Decimal

import attrs

from orderflow.domain._checks import non_negative, not_blank, positive, to_decimal

__all__ = ["BomLine", "Component", "Customer", "Product", "ProductKind"]


class ProductKind(enum.Enum):
    """How established a product is; drives the safety factor (R4)."""

    REGULAR = "regular"
    CUSTOM = "custom"
    NEW = "new"


@attrs.frozen
class Customer:
    """A customer with its credit standing (R2a: exposure + amount <= limit)."""

    id: str = attrs.field(validator=not_blank)
    name: str
    credit_grade: str = "B"
    credit_limit: Decimal = attrs.field(
        default=Decimal(0), converter=to_decimal, validator=non_negative
    )
    open_exposure: Decimal = attrs.field(
        default=Decimal(0), converter=to_decimal, validator=non_negative
    )

    @property
    def headroom(self) -> Decimal:
        """Credit still available: limit minus open exposure (may be negative)."""
        return self.credit_limit - self.open_exposure


@attrs.frozen
class Component:
    """A purchased or made component, with its shop-floor parameters (R1, R6)."""

    code: str = attrs.field(validator=not_blank)
    name: str
    imported: bool = False
    suppliers: tuple[str, ...] = ()
    safety_stock: Decimal = attrs.field(
        default=Decimal(0), converter=to_decimal, validator=non_negative
    )
    lead_time_days: int = 14

    @property
    def label(self) -> str:
        """``name code`` as shown in messages, e.g. ``seal ring Q23-7``."""
        return f"{self.name} {self.code}" if self.name else self.code


@attrs.frozen
class BomLine:
    """One component of a product's bill of material, per finished unit."""

    component: str = attrs.field(validator=not_blank)
    qty_per_unit: Decimal = attrs.field(converter=to_decimal, validator=positive)


@attrs.frozen
class Product:
    """A finished product: a scannable code, a kind, and its BOM (R1)."""

    code: str = attrs.field(validator=not_blank)
    name: str
    kind: ProductKind = ProductKind.REGULAR
    bom: tuple[BomLine, ...] = ()
