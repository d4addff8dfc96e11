"""Numbers, dates and model codes as OCR reports them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from orderflow.intake._text import normalise, normalise_model, parse_date, parse_number


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1,250.00", Decimal("1250.00")),
        ("¥30,117.50元", Decimal("30117.50")),
        ("１２０台", Decimal(120)),  # full-width digits
        ("860.5", Decimal("860.5")),
        ("单价：", None),
    ],
)
def test_numbers_are_exact_decimals(text: str, expected: Decimal | None) -> None:
    assert parse_number(text) == expected


@pytest.mark.parametrize(
    "text",
    ["2026年12月8日", "2026-12-08", "2026/12/08", "2026.12.8", "2026 年 12 月 08 日"],
)
def test_dates_in_every_written_form(text: str) -> None:
    assert parse_date(text) == dt.date(2026, 12, 8)


def test_impossible_date_is_none() -> None:
    assert parse_date("2026年2月30日") is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [("hv-012", "HV-012"), ("HV一012", "HV-012"), ("HV-O12", "HV-012"), ("HV-0I2", "HV-012")],
)
def test_model_codes_undo_ocr_confusions(text: str, expected: str) -> None:
    assert normalise_model(text) == expected


def test_normalise_removes_spaces_and_full_width_forms() -> None:
    assert normalise("甲方（买方）： 宁波 ") == "甲方(买方):宁波"
