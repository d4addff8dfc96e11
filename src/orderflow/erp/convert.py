"""Typed converters from ERP column values to orderflow values, and back (R7).

Each converter is a frozen value built from a mapping document. ``convert`` turns one
raw database value into an orderflow value or raises :class:`ConversionFailed` with a
reason written for a plant engineer; the mapper adds the table, row and column and
raises :class:`~orderflow.MappingError`. ``reverse`` gives back the ERP value (used by
the outbound feed and by the round-trip property).

ERP dates and times are local wall-clock values without a zone (Kingdee K3 stores
``datetime`` columns that way): they are read in the mapping's zone (default
``Asia/Shanghai``); instants come out as aware UTC datetimes.
"""

from __future__ import annotations

import datetime as dt
import functools
import zoneinfo
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from types import MappingProxyType
from typing import TypeAlias

import attrs
import pendulum

__all__ = [
    "CodeConverter",
    "ConversionFailed",
    "Converter",
    "DateConverter",
    "DateTimeConverter",
    "DecimalConverter",
    "IntConverter",
    "LookupConverter",
    "Lookups",
    "TextConverter",
    "Value",
    "canonical_decimal",
    "key_text",
    "plant_zone",
]

Value: TypeAlias = str | int | bool | Decimal | dt.date | dt.datetime | None
"""A converted value: text, integer, boolean, decimal, date, aware datetime or ``None``."""

Lookups: TypeAlias = Mapping[str, Mapping[str, str]]
"""Loaded code tables: lookup name -> (ERP key as text -> orderflow code)."""


class ConversionFailed(ValueError):
    """A raw value cannot be converted; ``reason`` says why (no table or row yet)."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


def canonical_decimal(value: Decimal) -> Decimal:
    """``value`` without trailing zeros and never in exponent form (``12.50`` -> ``12.5``)."""
    if value == value.to_integral_value():
        return value.quantize(Decimal(1))
    return value.normalize()


def key_text(value: object) -> str:
    """A lookup or code key as text: ``7``, ``7.0`` and ``"7 "`` all become ``"7"``."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return repr(value)
    if isinstance(value, Decimal):
        return str(canonical_decimal(value)) if value.is_finite() else str(value)
    text = str(value).strip()
    try:
        number = Decimal(text)
    except InvalidOperation:
        return text
    if number.is_finite() and number == number.to_integral_value() and "e" not in text.lower():
        return str(number.quantize(Decimal(1)))
    return text


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _decimal(value: object) -> Decimal:
    if isinstance(value, bool):
        raise ConversionFailed(f"expected a number, got boolean {value!r}")
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, float):
        # SQLite hands NUMERIC back as float; repr() is the shortest text that round-trips,
        # exact for the <= 15 significant digits an ERP quantity or price carries.
        number = Decimal(repr(value))
    elif isinstance(value, str):
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            raise ConversionFailed(f"not a number: {value!r}") from None
    else:
        raise ConversionFailed(f"expected a number, got {type(value).__name__} {value!r}")
    if not number.is_finite():
        raise ConversionFailed(f"not a finite number: {value!r}")
    return number


@functools.lru_cache(maxsize=64)
def plant_zone(name: str) -> dt.tzinfo:
    """The IANA time zone ``name`` (cached)."""
    return zoneinfo.ZoneInfo(name)


@functools.lru_cache(maxsize=65_536)
def _parse_text(text: str, zone: str) -> dt.datetime:
    try:
        naive = dt.datetime.fromisoformat(text)  # the common case: '2026-01-22 08:30:00'
    except ValueError:
        pass
    else:
        if naive.tzinfo is None:
            return naive.replace(tzinfo=plant_zone(zone))
        return naive.astimezone(plant_zone(zone))
    try:
        parsed = pendulum.parse(text, tz=zone, strict=False)
    except (ValueError, TypeError, OverflowError):
        raise ConversionFailed(f"cannot parse date/time {text!r}") from None
    if isinstance(parsed, pendulum.DateTime):
        return parsed.in_timezone(zone)
    if isinstance(parsed, pendulum.Date):
        return dt.datetime(parsed.year, parsed.month, parsed.day, tzinfo=plant_zone(zone))
    raise ConversionFailed(f"cannot parse date/time {text!r} (not a date)")


def _local(value: object, zone: str) -> dt.datetime:
    """The ERP value as an aware datetime in ``zone`` (naive values are local time)."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            return value.replace(tzinfo=plant_zone(zone))
        return value.astimezone(plant_zone(zone))
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day, tzinfo=plant_zone(zone))
    if isinstance(value, str):
        return _parse_text(value.strip(), zone)
    raise ConversionFailed(f"expected a date/time, got {type(value).__name__} {value!r}")


@attrs.frozen
class TextConverter:
    """Text, stripped of surrounding blanks; empty text counts as missing."""

    def convert(self, value: object, lookups: Lookups) -> Value:
        """The value as stripped text."""
        if _missing(value):
            raise ConversionFailed("value is missing (NULL or blank)")
        return str(value).strip()

    def reverse(self, value: Value, lookups: Lookups) -> object:
        """The text unchanged."""
        return value


@attrs.frozen
class IntConverter:
    """A whole number (``7``, ``"7"``, ``7.0``)."""

    def convert(self, value: object, lookups: Lookups) -> Value:
        """The value as ``int``; fractions are refused."""
        if _missing(value):
            raise ConversionFailed("value is missing (NULL or blank)")
        number = _decimal(value)
        if number != number.to_integral_value():
            raise ConversionFailed(f"expected a whole number, got {value!r}")
        return int(number)

    def reverse(self, value: Value, lookups: Lookups) -> object:
        """The integer unchanged."""
        return value


@attrs.frozen
class DecimalConverter:
    """An exact decimal, multiplied by ``factor`` (unit conversion, e.g. boxes -> pieces).

    ``minimum`` (inclusive) and ``positive`` bound the converted value.
    """

    factor: Decimal = Decimal(1)
    minimum: Decimal | None = None
    positive: bool = False

    def convert(self, value: object, lookups: Lookups) -> Value:
        """The value as a canonical :class:`~decimal.Decimal` times ``factor``."""
        if type(value) is Decimal and value.is_finite():
            number = value  # what the SQL source hands back: the hot path of a sync
        elif _missing(value):
            raise ConversionFailed("value is missing (NULL or blank)")
        else:
            number = _decimal(value)
        if self.factor != 1:
            number = number * self.factor
        number = canonical_decimal(number)
        if self.positive and number <= 0:
            raise ConversionFailed(f"must be > 0, got {number}")
        if self.minimum is not None and number < self.minimum:
            raise ConversionFailed(f"must be >= {self.minimum}, got {number}")
        return number

    def reverse(self, value: Value, lookups: Lookups) -> object:
        """The ERP quantity: the value divided by ``factor``."""
        if not isinstance(value, Decimal):
            return value
        return canonical_decimal(value / self.factor)


@attrs.frozen
class DateConverter:
    """A calendar date in the plant's zone (an ERP ``datetime`` keeps its local date)."""

    zone: str = "Asia/Shanghai"

    def convert(self, value: object, lookups: Lookups) -> Value:
        """The local calendar date of the value."""
        if _missing(value):
            raise ConversionFailed("value is missing (NULL or blank)")
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            return value
        local = _local(value, self.zone)
        return dt.date(local.year, local.month, local.day)

    def reverse(self, value: Value, lookups: Lookups) -> object:
        """The date as ERP local midnight (naive datetime, as K3 stores it)."""
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            return dt.datetime(value.year, value.month, value.day)
        return value


@attrs.frozen
class DateTimeConverter:
    """An instant: ERP local time read in the plant's zone, returned in UTC."""

    zone: str = "Asia/Shanghai"

    def convert(self, value: object, lookups: Lookups) -> Value:
        """The value as an aware UTC datetime."""
        if _missing(value):
            raise ConversionFailed("value is missing (NULL or blank)")
        return _local(value, self.zone).astimezone(dt.UTC)

    def reverse(self, value: Value, lookups: Lookups) -> object:
        """The instant as naive ERP local time."""
        if isinstance(value, dt.datetime):
            local = value.astimezone(plant_zone(self.zone))
            return dt.datetime(
                local.year,
                local.month,
                local.day,
                local.hour,
                local.minute,
                local.second,
                local.microsecond,
            )
        return value


def _code_table(codes: Mapping[str, str | bool | int]) -> Mapping[str, str | bool | int]:
    return MappingProxyType({key_text(k): v for k, v in codes.items()})


@attrs.frozen
class CodeConverter:
    """A status or flag code mapped through a fixed table (``{"0": false, "1": true}``)."""

    codes: Mapping[str, str | bool | int] = attrs.field(converter=_code_table)

    def convert(self, value: object, lookups: Lookups) -> Value:
        """The orderflow value for the code; unknown codes are refused."""
        if _missing(value):
            raise ConversionFailed("value is missing (NULL or blank)")
        key = key_text(value)
        try:
            return self.codes[key]
        except KeyError:
            known = ", ".join(sorted(self.codes))
            raise ConversionFailed(f"unknown code {key!r} (known codes: {known})") from None

    def reverse(self, value: Value, lookups: Lookups) -> object:
        """The first ERP code that maps to ``value``."""
        for code, mapped in self.codes.items():
            if mapped == value and type(mapped) is type(value):
                return _code_value(code)
        return value


def _code_value(code: str) -> object:
    try:
        return int(code)
    except ValueError:
        return code


@attrs.frozen
class LookupConverter:
    """An ERP foreign key resolved through a code table.

    Example: ``FCustID`` -> ``t_Organization.FNumber`` (the customer code).

    ``table``/``key``/``value`` are only used in messages; the table itself is loaded by
    the source as ``lookups[lookup]``.
    """

    lookup: str
    table: str = ""
    key: str = ""
    value: str = ""

    def convert(self, value: object, lookups: Lookups) -> Value:
        """The code the foreign key points at; an unknown key is refused."""
        if _missing(value):
            raise ConversionFailed("value is missing (NULL or blank)")
        key = key_text(value)
        found = lookups.get(self.lookup, {}).get(key)
        if found is None:
            where = f"{self.table} row with {self.key} = {key}" if self.table else f"{key!r}"
            raise ConversionFailed(f"unknown {self.lookup}: no {where}")
        return found

    def reverse(self, value: Value, lookups: Lookups) -> object:
        """The ERP key whose code is ``value`` (first match)."""
        for key, code in lookups.get(self.lookup, {}).items():
            if code == value:
                return _code_value(key)
        return value


Converter: TypeAlias = (
    TextConverter
    | IntConverter
    | DecimalConverter
    | DateConverter
    | DateTimeConverter
    | CodeConverter
    | LookupConverter
)
"""Any of the converters a mapping field can name."""
