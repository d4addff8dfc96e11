"""The mapping document: presets, validation errors naming keys, typed converters (R7)."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from orderflow.erp import (
    ErpMapping,
    MappingSpecError,
    available_presets,
    load_mapping,
    parse_mapping,
)
from orderflow.erp.convert import (
    CodeConverter,
    ConversionFailed,
    DateConverter,
    DateTimeConverter,
    DecimalConverter,
    LookupConverter,
    key_text,
)
from orderflow.exceptions import InputError, OrderflowError


def test_kingdee_preset_maps_the_k3_tables(k3: ErpMapping) -> None:
    assert "kingdee-k3-wise" in available_presets()
    assert k3.header.table == "SEOrder"
    assert k3.header.key == "FInterID"
    assert k3.header.fields["erp_number"].column == "FBillNo"
    assert k3.header.fields["customer_id"].converter == LookupConverter(
        "customer", "t_Organization", "FItemID", "FNumber"
    )
    assert k3.lines.table == "SEOrderEntry"
    assert k3.lines.parent == "FInterID"
    assert k3.timezone == "Asia/Shanghai"
    assert k3.stock is not None and k3.stock.table == "ICInventory"
    assert k3.required_columns()["SEOrderEntry"] == (
        "FEntryID",
        "FInterID",
        "FItemID",
        "FQty",
        "FAuxQty",
        "FUnitID",
        "FAuxPrice",
        "FAuxTaxPrice",
        "FCess",
        "FTaxRate",
        "FAllStdAmount",
        "FDate",
        "FMrpClosed",
    )
    assert ("FInterID", "erp_id") in k3.feed_columns
    assert ("orderflow_delivered_on", "actual_delivery_date") in k3.feed_columns
    assert "FDate" not in dict(k3.feed_columns)  # K3's FDate is the order/promised date


def _doc(k3: ErpMapping) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(json.dumps(dict(k3.document)))
    return doc


def test_every_problem_is_reported_with_its_key(k3: ErpMapping) -> None:
    doc = _doc(k3)
    doc["timezone"] = "Mars/Olympus"
    doc["header"]["fields"]["customer_id"]["lookup"] = "cust"
    doc["header"]["fields"]["colour"] = {"column": "FColor", "type": "text"}
    del doc["lines"]["fields"]["qty"]
    doc["lines"]["fields"]["product"]["factor"] = "2"
    with pytest.raises(MappingSpecError) as info:
        parse_mapping(doc, origin="plant.toml")
    text = str(info.value)
    assert "plant.toml" in text
    assert any(p.startswith("timezone:") and "Mars/Olympus" in p for p in info.value.problems)
    assert "lines.fields.product" in text and "factor" in text
    assert isinstance(info.value, InputError)
    # schema-level problems come once the document's shape is valid
    doc = _doc(k3)
    doc["header"]["fields"]["customer_id"]["lookup"] = "cust"
    doc["header"]["fields"]["colour"] = {"column": "FColor", "type": "text"}
    del doc["lines"]["fields"]["qty"]
    doc["header"]["fields"]["cancelled"]["codes"] = {"0": "no", "1": True}
    with pytest.raises(MappingSpecError) as info:
        parse_mapping(doc)
    problems = info.value.problems
    assert (
        "header.fields.customer_id.lookup: unknown lookup 'cust' "
        "(defined: ['customer', 'material'])" in problems
    )
    assert any(p.startswith("header.fields.colour: unknown orderflow field") for p in problems)
    assert "lines.fields.qty: required field is not mapped" in problems
    assert any(p.startswith("header.fields.cancelled.codes:") for p in problems)


def test_unknown_keys_and_bad_types_are_refused(k3: ErpMapping) -> None:
    doc = _doc(k3)
    doc["header"]["tabel"] = "SEOrder"
    doc["lines"]["fields"]["qty"]["type"] = "date"
    with pytest.raises(MappingSpecError) as info:
        parse_mapping(doc)
    text = str(info.value)
    assert "header.tabel: Extra inputs are not permitted" in text


def test_mapping_files_and_presets_load(tmp_path: Path, k3: ErpMapping) -> None:
    path = tmp_path / "k3.json"
    path.write_text(json.dumps(_doc(k3)))
    assert load_mapping(path).fingerprint == k3.fingerprint
    assert load_mapping("kingdee-k3-wise").fingerprint == k3.fingerprint
    bad = tmp_path / "bad.toml"
    bad.write_text("name = [")
    with pytest.raises(MappingSpecError, match=r"bad\.toml.*not valid TOML"):
        load_mapping(bad)
    with pytest.raises(MappingSpecError, match=r"No such file.*presets: kingdee-k3-wise"):
        load_mapping(tmp_path / "missing.toml")


def test_fingerprint_changes_with_the_mapping(k3: ErpMapping) -> None:
    doc = _doc(k3)
    doc["revision"] = "2099.1"
    assert parse_mapping(doc).fingerprint != k3.fingerprint
    assert parse_mapping(_doc(k3)).fingerprint == k3.fingerprint


def test_erp_local_times_are_read_in_the_plant_zone() -> None:
    conv = DateTimeConverter("Asia/Shanghai")
    instant = conv.convert(dt.datetime(2026, 1, 22, 8, 0), {})
    assert instant == dt.datetime(2026, 1, 22, 0, 0, tzinfo=dt.UTC)
    assert conv.convert("2026-01-22 08:00:00.000", {}) == instant
    assert conv.reverse(instant, {}) == dt.datetime(2026, 1, 22, 8, 0)
    day = DateConverter("Asia/Shanghai")
    # 23:30 UTC on the 21st is already the 22nd in Ningbo
    assert day.convert(dt.datetime(2026, 1, 21, 23, 30, tzinfo=dt.UTC), {}) == dt.date(2026, 1, 22)
    assert day.convert("2026-01-22", {}) == dt.date(2026, 1, 22)
    with pytest.raises(ConversionFailed, match="cannot parse date/time '2026-13-45'"):
        day.convert("2026-13-45", {})


def test_decimals_are_exact_and_unit_conversions_apply() -> None:
    conv = DecimalConverter(factor=Decimal(12), minimum=Decimal(0))
    assert conv.convert("2.50", {}) == Decimal(30)
    assert conv.convert(Decimal("12.5000000000"), {}) == Decimal(150)
    assert DecimalConverter().convert(0.1, {}) == Decimal("0.1")  # SQLite NUMERIC as float
    assert conv.reverse(Decimal(30), {}) == Decimal("2.5")
    with pytest.raises(ConversionFailed, match="must be >= 0, got -12"):
        conv.convert(-1, {})
    with pytest.raises(ConversionFailed, match="must be > 0"):
        DecimalConverter(positive=True).convert(0, {})
    with pytest.raises(ConversionFailed, match="not a number: 'abc'"):
        conv.convert("abc", {})
    with pytest.raises(ConversionFailed, match="missing"):
        conv.convert(None, {})


def test_codes_and_lookups() -> None:
    cancelled = CodeConverter({"0": False, "1": True})
    assert cancelled.convert(1, {}) is True
    assert cancelled.convert(Decimal("0"), {}) is False
    assert cancelled.reverse(True, {}) == 1
    with pytest.raises(ConversionFailed, match=r"unknown code '7' \(known codes: 0, 1\)"):
        cancelled.convert(7, {})
    customer = LookupConverter("customer", "t_Organization", "FItemID", "FNumber")
    tables = {"customer": {"7": "C00007"}}
    assert customer.convert(7, tables) == "C00007"
    assert customer.reverse("C00007", tables) == 7
    with pytest.raises(ConversionFailed, match="no t_Organization row with FItemID = 8"):
        customer.convert(8.0, tables)
    assert key_text(" 7 ") == key_text(7.0) == key_text(Decimal("7.000")) == "7"


def test_mapping_errors_are_orderflow_errors() -> None:
    with pytest.raises(OrderflowError):
        parse_mapping({"name": "x"})
