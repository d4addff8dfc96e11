"""The three R13 rules at their thresholds, computed by hand."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from orderflow import InputError
from orderflow.geo.geodesy import LatLon
from orderflow.policy import RiskThresholds, parse_policy
from orderflow.risk import (
    CsvRates,
    DrawingChangeRule,
    EcbRates,
    ImportedRateRule,
    RiskInputs,
    RiskRule,
    SeriesRates,
    Severity,
    TyphoonRouteRule,
    TyphoonZones,
    evaluate_rules,
    rate_move,
)

LIMITS = RiskThresholds()
DAY = dt.date(2026, 8, 3)


def _move(before: str, now: str) -> Decimal | None:
    source = SeriesRates({"USD": {DAY - dt.timedelta(days=30): Decimal(before),
                                  DAY: Decimal(now)}})  # fmt: skip
    return rate_move(source, ["USD"], DAY, 30).pct


@pytest.mark.parametrize(("changes", "flagged"), [(0, False), (2, False), (3, True), (9, True)])
def test_drawing_changes_flag_above_two(changes: int, flagged: bool) -> None:
    flag = DrawingChangeRule()(RiskInputs("C1", drawing_changes=changes), LIMITS)
    assert (flag is not None) is flagged
    if flag is not None:
        assert flag.message == f"drawing changes in 90 days: {changes} > 2 (customer C1)"
        assert flag.severity is Severity.WARNING
        assert flag.measured["drawing_changes"] == str(changes)


def test_rate_move_is_measured_exactly() -> None:
    # 7.0 -> 7.14 is exactly 2 %; 7.0 -> 7.147 is 2.1 %; a fall counts like a rise
    assert _move("7.0", "7.14") == Decimal("2.0000")
    assert _move("7.0", "7.147") == Decimal("2.1000")
    assert _move("7.0", "6.853") == Decimal("2.1000")


@pytest.mark.parametrize(
    ("imported", "now", "flagged"),
    [
        (3, "7.14", False),  # 2.0 % is not more than 2 %
        (3, "7.147", True),  # 2.1 %
        (2, "7.147", False),  # two imported materials are not enough
        (3, "6.853", True),  # -2.1 %
        (4, "7.147", True),
    ],
)
def test_imported_rate_needs_three_imports_and_more_than_two_percent(
    imported: int, now: str, flagged: bool
) -> None:
    inputs = RiskInputs("C1", imported_materials=tuple(f"K{i}" for i in range(imported)),
                        rate_move_pct=_move("7.0", now), rate_currency="USD")  # fmt: skip
    flag = ImportedRateRule()(inputs, LIMITS)
    assert (flag is not None) is flagged
    if flag is not None:
        assert flag.recommendation_zh.startswith("建议增加10%备品率")
        assert "add 10% spares" in flag.recommendation_en
        assert "USD/CNY moved 2.1% > 2%" in flag.message


def test_unknown_rate_never_flags() -> None:
    inputs = RiskInputs("C1", imported_materials=("a", "b", "c"), rate_move_pct=None)
    assert ImportedRateRule()(inputs, LIMITS) is None


@pytest.mark.parametrize(
    ("zone", "backup", "flagged"),
    [
        ("湛江市 (Zhanjiang)", False, True),
        ("湛江市 (Zhanjiang)", None, True),  # no carrier on record: no backup route known
        ("湛江市 (Zhanjiang)", True, False),
        (None, False, False),
    ],
)
def test_typhoon_zone_without_backup_route(zone: str | None, backup: bool | None,
                                           flagged: bool) -> None:  # fmt: skip
    inputs = RiskInputs("C1", zone=zone, carrier="SF" if backup is not None else None,
                        carrier_backup=backup)  # fmt: skip
    flag = TyphoonRouteRule()(inputs, LIMITS)
    assert (flag is not None) is flagged
    if flag is not None:
        assert flag.recommendation_zh.startswith("启用深圳保税仓直发")
        assert "Shenzhen bonded warehouse" in flag.recommendation_en


def test_thresholds_come_from_the_policy() -> None:
    policy = parse_policy({"risk": {"drawing_changes_max": 3, "rate_move_pct": "2.5"}})
    inputs = RiskInputs("C1", drawing_changes=3, imported_materials=("a", "b", "c"),
                        rate_move_pct=Decimal("2.1"))  # fmt: skip
    assert evaluate_rules(inputs, policy.risk) == ()
    assert [f.code for f in evaluate_rules(inputs, LIMITS)] == ["drawing_changes", "imported_rate"]
    off = parse_policy({"risk": {"enabled": False}}).risk
    assert evaluate_rules(RiskInputs("C1", drawing_changes=50), off) == ()


def test_rules_are_risk_rules() -> None:
    for rule in (DrawingChangeRule(), ImportedRateRule(), TyphoonRouteRule()):
        assert isinstance(rule, RiskRule)


@pytest.mark.parametrize(
    ("address", "zone"),
    [
        ("广东省湛江市霞山区人民大道1号", "湛江市"),
        ("湛江霞山区海滨路", "湛江市"),
        ("浙江省宁波市北仑区", "宁波市"),
        ("浙江省杭州市西湖区文三路1号", None),
        ("", None),
        ("somewhere unknown", None),
    ],
)
def test_zones_by_address(address: str, zone: str | None) -> None:
    found = TyphoonZones.builtin().zone_for_address(address)
    assert (found.name if found else None) == zone


def test_zones_are_cited_geofences() -> None:
    zones = TyphoonZones.builtin()
    assert len(zones) >= 25
    assert {z.province for z in zones} >= {"广东省", "福建省", "浙江省", "海南省", "广西壮族自治区"}
    found = zones.zone_at(LatLon(21.27, 110.36))
    assert found is not None
    assert found.name_en == "Zhanjiang"
    assert zones.zone_at(LatLon(30.27, 120.15)) is None  # Hangzhou
    header = (Path(__file__).parents[2] / "src/orderflow/risk/data/typhoon_zones.csv").read_text(
        encoding="utf-8"
    )
    assert "China Meteorological Administration" in header


def test_csv_rates(tmp_path: Path) -> None:
    path = tmp_path / "rates.csv"
    path.write_text("date,currency,cny_per_unit\n2026-07-01,USD,7.00\n2026-08-01,usd,7.20\n")
    source = CsvRates(path)
    assert source.rate("USD", dt.date(2026, 7, 15)) == Decimal("7.00")  # last on or before
    assert source.rate("USD", dt.date(2026, 8, 3)) == Decimal("7.20")
    assert source.rate("USD", dt.date(2026, 6, 30)) is None
    path.write_text("date,currency,cny_per_unit\n2026-07-01,USD,seven\n")
    with pytest.raises(InputError, match="line 2"):
        CsvRates(path)
    path.write_text("day,currency,rate\n")
    with pytest.raises(InputError, match="missing column"):
        CsvRates(path)


def test_ecb_rates_are_bundled_and_frozen() -> None:
    ecb = EcbRates()
    # ECB reference rates of 2024-01-02: EUR/CNY 7.8264, EUR/USD 1.0956 -> 7.8264 / 1.0956
    assert ecb.rate("USD", dt.date(2024, 1, 2)) == Decimal("7.143483")
    assert ecb.rate("USD", ecb.last_date + dt.timedelta(days=1)) is None
    assert ecb.rate("XYZ", dt.date(2024, 1, 2)) is None
