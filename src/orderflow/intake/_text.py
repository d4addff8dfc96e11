"""Text normalisation and the small grammars of contract values (numbers, dates, models).

OCR engines mix full-width and half-width forms, drop spaces and read a dash
as the ideograph 一; everything is matched on the NFKC form with those
confusions undone.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from decimal import Decimal, InvalidOperation

__all__ = [
    "MODEL_RE",
    "NUMBER_RE",
    "UNITS",
    "normalise",
    "normalise_model",
    "parse_date",
    "parse_number",
]

#: Units of quantity the parser accepts after a number.
UNITS = ("件", "台", "套", "个")

# dashes OCR reports for "-": ideograph one, em/en dash, minus, katakana long mark
_DASHES = str.maketrans(dict.fromkeys("一—–−ー‐", "-"))

#: A product model: letters, optional dash, digits, optional suffix (HV-012, DN50-16A).
MODEL_RE = re.compile(r"[A-Z]{1,5}-?[0-9OIl]{2,6}(?:-?[A-Z0-9]{1,6})*")

#: A number with optional thousands commas and decimals (1,250.00 / 120 / 860.5).
NUMBER_RE = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?")

_DATE_RE = re.compile(r"(\d{4})\s*[年./-]\s*(\d{1,2})\s*[月./-]\s*(\d{1,2})\s*日?")


def normalise(text: str) -> str:
    """NFKC, whitespace removed, dashes unified: the form labels and values are matched on."""
    return "".join(unicodedata.normalize("NFKC", text).split()).translate(_DASHES)


def normalise_model(text: str) -> str:
    """A model code in canonical form: upper case, ``O``/``I`` read in digit runs fixed."""
    code = normalise(text).upper().strip("-:：,.;")
    # OCR reads 0 as O and 1 as I/l inside digit runs; models never mix them there
    return re.sub(
        r"(?<=[0-9-])[OIL]+",
        lambda m: m.group().replace("O", "0").replace("I", "1").replace("L", "1"),
        code,
    )


def parse_number(text: str) -> Decimal | None:
    """The first number in ``text`` as a Decimal (commas dropped), or ``None``."""
    match = NUMBER_RE.search(normalise(text))
    if match is None:
        return None
    try:
        return Decimal(match.group().replace(",", ""))
    except InvalidOperation:  # pragma: no cover - the regex only admits digits
        return None


def parse_date(text: str) -> dt.date | None:
    """The first date written as 2026年12月18日, 2026-12-18, 2026/12/18 or 2026.12.18."""
    match = _DATE_RE.search(normalise(text))
    if match is None:
        return None
    try:
        return dt.date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError:
        return None
