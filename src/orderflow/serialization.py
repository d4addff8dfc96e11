"""JSON-safe (un)structuring of every public value type, via one cattrs converter.

Decimals become strings (exact, and floats would break canonical hashing), dates and
datetimes ISO 8601 strings (datetimes keep their UTC offset), enums their values,
tuples and frozensets lists. ``structure(unstructure(x), type(x)) == x`` for every value.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from types import MappingProxyType
from typing import Any, TypeVar

import cattrs
import pendulum
from cattrs.preconf.json import make_converter
from cattrs.v import format_exception

from orderflow.exceptions import InputError

__all__ = ["converter", "from_json", "structure", "to_json", "unstructure"]

T = TypeVar("T")

converter = make_converter()


def _decimal(value: Any, _: type) -> Decimal:
    if isinstance(value, float):
        raise ValueError(f"refusing float {value!r}: write decimals as strings")
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"not a decimal number: {value!r}") from None


def _datetime(value: Any, _: type) -> dt.datetime:
    parsed = pendulum.parse(value) if isinstance(value, str) else value
    if not isinstance(parsed, dt.datetime) or parsed.tzinfo is None:
        raise ValueError(f"not a timezone-aware ISO 8601 datetime: {value!r}")
    return pendulum.instance(parsed)


def _mapping(value: Any, _: type) -> Mapping[str, Any]:
    return MappingProxyType(dict(value))


converter.register_unstructure_hook(Decimal, str)
converter.register_structure_hook(Decimal, _decimal)
converter.register_unstructure_hook(dt.datetime, lambda v: v.isoformat())
converter.register_structure_hook(dt.datetime, _datetime)
converter.register_unstructure_hook(dt.date, lambda v: v.isoformat())
converter.register_structure_hook(dt.date, lambda v, _: dt.date.fromisoformat(v))
converter.register_unstructure_hook(
    frozenset, lambda v: sorted(converter.unstructure(x) for x in v)
)
converter.register_unstructure_hook(MappingProxyType, lambda v: converter.unstructure(dict(v)))


def _describe(exc: BaseException, type_: Any) -> str:
    if isinstance(exc, KeyError):
        return "required field missing"
    if isinstance(exc, ValueError | InputError) and str(exc):
        return str(exc)
    return format_exception(exc, type_)


def unstructure(value: Any) -> Any:
    """Turn a value object into JSON-safe builtins (dicts, lists, strings, ints, bools)."""
    return converter.unstructure(value)


def structure(data: Any, cls: type[T]) -> T:
    """Build a ``cls`` from builtins; errors name the path of the offending key."""
    try:
        return converter.structure(data, cls)
    except cattrs.BaseValidationError as exc:
        notes = cattrs.transform_error(exc, format_exception=_describe)
        raise InputError(f"cannot read {cls.__name__}: " + "; ".join(notes)) from None
    except (ValueError, TypeError, KeyError) as exc:
        raise InputError(f"cannot read {cls.__name__}: {exc}") from None


def to_json(value: Any) -> str:
    """Serialise a value object to a JSON string (sorted keys)."""
    return json.dumps(unstructure(value), sort_keys=True, ensure_ascii=False)


def from_json(text: str | bytes, cls: type[T]) -> T:
    """Parse JSON produced by :func:`to_json` back into a ``cls``."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"not valid JSON: {exc}") from None
    return structure(data, cls)
