"""attrs validators shared by the value objects: each raises InputError naming the field."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import attrs

from orderflow.exceptions import InputError


def non_negative(instance: Any, attribute: attrs.Attribute[Any], value: Decimal) -> None:
    """Reject a negative or non-finite quantity/amount."""
    if not isinstance(value, Decimal):
        raise InputError(
            f"{type(instance).__name__}.{attribute.name} must be a Decimal, got {value!r}"
        )
    if not value.is_finite() or value < 0:
        raise InputError(
            f"{type(instance).__name__}.{attribute.name} must be a finite number >= 0, got {value}"
        )


def positive(instance: Any, attribute: attrs.Attribute[Any], value: Decimal) -> None:
    """Reject a quantity that is not strictly positive."""
    non_negative(instance, attribute, value)
    if value == 0:
        raise InputError(f"{type(instance).__name__}.{attribute.name} must be > 0, got {value}")


def not_blank(instance: Any, attribute: attrs.Attribute[Any], value: str) -> None:
    """Reject an empty or whitespace-only identifier."""
    if not isinstance(value, str) or not value.strip():
        raise InputError(f"{type(instance).__name__}.{attribute.name} must not be blank")


def to_decimal(value: Any) -> Decimal:
    """Convert ints and numeric strings to Decimal; refuse floats (they break hashing)."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool | float):
        raise InputError(f"use Decimal or a numeric string, not {type(value).__name__} {value!r}")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, str):
        try:
            return Decimal(value.strip())
        except ArithmeticError:
            raise InputError(f"not a number: {value!r}") from None
    raise InputError(f"not a number: {value!r}")
