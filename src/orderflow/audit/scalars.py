"""The scalar values an audit entry may hold, checked and written as canonical JSON.

Split from :mod:`orderflow.audit.entry` (which re-exports :data:`Scalar`): the checks
every entry's fields pass, and the fast paths for the values almost every entry holds.
"""

from __future__ import annotations

import json
import unicodedata
from decimal import Decimal
from typing import TypeAlias, TypeGuard

from orderflow.exceptions import InputError

__all__ = ["MAX_INT", "Scalar"]

MAX_INT = 2**53
"""The largest integer an entry holds (and its negative the smallest): JSON readers that
parse numbers as doubles still read these exactly."""

Scalar: TypeAlias = str | int | bool | None
"""A field value as stored: text, integer, boolean or null (decimals become text)."""

_quote = json.encoder.encode_basestring
_dumps = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode


def _text(value: object, what: str) -> str:
    if not isinstance(value, str):
        raise InputError(f"{what} must be text, got {type(value).__name__}")
    if value.isascii():
        return value
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InputError(f"{what} is not valid Unicode text: {value!r:.60}") from None
    if not unicodedata.is_normalized("NFC", value):
        raise InputError(f"{what} is not in Unicode NFC form: {value!r:.60}")
    return value


def _ok(value: str) -> bool:
    """Whether non-ASCII ``value`` is valid Unicode in NFC form."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return unicodedata.is_normalized("NFC", value)


def _plain(value: object) -> TypeGuard[Scalar]:
    """Whether ``value`` is a scalar stored as it is (``_scalar`` returns it unchanged and
    raises nothing): None, a bool, an int within ±2**53, ASCII text. Exact types only:
    anything else takes the full checks."""
    if type(value) is str:
        return value.isascii()
    if type(value) is int:
        return -MAX_INT <= value <= MAX_INT
    return value is None or type(value) is bool


def _key(value: object, what: str) -> str:
    if not isinstance(value, str) or not value or not value.isascii():
        raise InputError(f"{what} must be non-empty ASCII text, got {value!r:.60}")
    return value


def _int(value: object, what: str, low: int = 0) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= MAX_INT:
        raise InputError(f"{what} must be an integer in {low}..2**53, got {value!r:.60}")
    return value


def _scalar(value: object, what: str) -> Scalar:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return _int(value, what, -MAX_INT)
    if isinstance(value, str):
        return _text(value, what)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise InputError(f"{what} must be a finite decimal, got {value}")
        return str(value)
    raise InputError(
        f"{what} must be text, an integer, a boolean, a Decimal or None "
        f"(floats are not allowed), got {type(value).__name__}"
    )


def _json(value: Scalar) -> str:
    """``_dumps(value)`` without the encoder's generic path for the common types (the
    same text: json writes None, True, False and an int as below, and text through
    ``encode_basestring`` when ``ensure_ascii`` is off)."""
    if type(value) is str:
        return _quote(value)
    if value is None:
        return "null"
    if type(value) is bool:
        return "true" if value else "false"
    if type(value) is int:
        return int.__repr__(value)
    return _dumps(value)
