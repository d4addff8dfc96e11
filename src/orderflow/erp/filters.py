"""Typed row filters of an ERP mapping: which rows of a table exist for orderflow (R7).

A table's ``where`` is a list of :class:`Condition` values, all of which must hold
(AND). Each condition names one column and one operator:

- ``=`` / ``<>`` against one value,
- ``in`` against a list of values,
- ``is null``;

``null_as`` reads a NULL as that value first (Kingdee K3 leaves ``FCancellation``
NULL on some rows; K3 itself treats it as 0). Without ``null_as`` a NULL matches only
``is null``, as in SQL (``FClassTypeID <> 1007100`` is not true for a NULL).

Conditions are data, never SQL text: the SQL source renders them with SQLAlchemy
bound parameters, the in-memory source evaluates them with :meth:`Condition.matches`,
and a property test holds both to the same answer.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Literal, TypeAlias

import attrs
from pydantic import BaseModel, ConfigDict, Field, model_validator

from orderflow.erp.convert import key_text

__all__ = ["Condition", "ConditionDoc", "Operator", "RowFilter", "row_matches", "scalar"]

Operator: TypeAlias = Literal["=", "<>", "in", "is null"]
"""The operators a condition may use."""

Scalar: TypeAlias = str | int | bool | Decimal
"""A value a condition compares with (TOML integers, strings, booleans; decimals)."""


def scalar(value: object) -> str:
    """The comparison form of a value: numbers by value (``7``, ``7.0``, ``"7"`` agree)."""
    return key_text(value)


@attrs.frozen
class Condition:
    """One typed test on one column (see the module docstring)."""

    column: str
    op: Operator
    values: tuple[Scalar, ...] = ()
    null_as: Scalar | None = None

    def matches(self, row: Mapping[str, object]) -> bool:
        """Whether ``row`` passes this condition, with SQL's NULL rules (see above)."""
        raw = row.get(self.column)
        if raw is None and self.null_as is not None:
            raw = self.null_as
        if self.op == "is null":
            return raw is None
        if raw is None:
            return False
        text = scalar(raw)
        wanted = {scalar(v) for v in self.values}
        return text not in wanted if self.op == "<>" else text in wanted

    def describe(self) -> str:
        """The condition as a plant engineer reads it (``FChangeMark = 0``)."""
        column = self.column if self.null_as is None else f"({self.column} ?? {self.null_as})"
        if self.op == "is null":
            return f"{column} is null"
        if self.op == "in":
            return f"{column} in ({', '.join(scalar(v) for v in self.values)})"
        return f"{column} {self.op} {scalar(self.values[0])}"


RowFilter: TypeAlias = tuple[Condition, ...]
"""The conditions of one table, AND-combined (empty: every row)."""


def row_matches(conditions: Iterable[Condition], row: Mapping[str, object]) -> bool:
    """Whether ``row`` passes every condition."""
    return all(c.matches(row) for c in conditions)


class ConditionDoc(BaseModel):
    """A condition as written in the mapping document (validated at the boundary)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    column: str = Field(min_length=1)
    op: Operator
    value: Scalar | None = None
    values: list[Scalar] | None = None
    null_as: Scalar | None = None

    @model_validator(mode="after")
    def _operands_fit_op(self) -> ConditionDoc:
        if self.op in ("=", "<>") and (self.value is None or self.values is not None):
            raise ValueError(f"'{self.op}' needs 'value' (one value), not 'values'")
        if self.op == "in" and (not self.values or self.value is not None):
            raise ValueError("'in' needs 'values' (a non-empty list), not 'value'")
        if self.op == "is null" and (self.value is not None or self.values is not None):
            raise ValueError("'is null' takes no value")
        if self.op == "is null" and self.null_as is not None:
            raise ValueError("'is null' cannot be combined with 'null_as'")
        return self

    def frozen(self) -> Condition:
        """The library's frozen :class:`Condition`."""
        values = (
            tuple(self.values or ())
            if self.op == "in"
            else ((self.value,) if self.value is not None else ())
        )
        return Condition(self.column, self.op, values, self.null_as)
