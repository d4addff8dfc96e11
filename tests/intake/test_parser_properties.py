"""Property tests: whatever the values, skew and line order, the parser reads them back."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from orderflow.intake.parser import parse_contract
from tests.intake.helpers import labelled_page, line, table_page

_NAME_CHARS = "宁波杭州华东恒达精工永信鑫源宏天力金鼎振博远明泰通宇阀门机械流体设备液压自动化"
names = st.text(alphabet=_NAME_CHARS, min_size=2, max_size=12).map(lambda s: s + "有限公司")
models = st.from_regex(r"[A-Z]{2,3}-[0-9]{3}", fullmatch=True)
qtys = st.integers(1, 99_999).map(Decimal)
prices = st.integers(1, 99_999_999).map(lambda c: Decimal(c) / 100)
units = st.sampled_from(["件", "台", "套", "个"])
rows = st.lists(st.tuples(models, qtys, units, prices), min_size=1, max_size=5)
angles = st.floats(-8.0, 8.0)
dates = st.dates(dt.date(2020, 1, 1), dt.date(2035, 12, 31))


def _money(value: Decimal, commas: bool) -> str:
    return f"{value:,.2f}" if commas else f"{value:.2f}"


@given(names, names, dates, rows, angles, st.booleans(), st.randoms(use_true_random=False))
def test_table_contract_round_trips(
    buyer: str,
    seller: str,
    due: dt.date,
    lines: list[tuple[str, Decimal, str, Decimal]],
    angle: float,
    commas: bool,
    rnd: random.Random,
) -> None:
    head = [
        "合同编号：HT-2026-00001",
        f"甲方（买方）：{buyer}",
        f"乙方（卖方）：{seller}",
        "交货地址：浙江省宁波市北仑区明州路88号",
        f"交货日期：{due.year}年{due.month}月{due.day}日",
    ]
    cells = [
        [m, "液压阀", str(q), u, _money(p, commas), _money(q * p, commas)] for m, q, u, p in lines
    ]
    page = labelled_page(head, angle_deg=angle) + table_page(cells, angle_deg=angle)
    rnd.shuffle(page)  # engines report lines in no fixed order
    c = parse_contract([page])
    assert (c.buyer.value, c.seller.value, c.requested_date.value) == (buyer, seller, due)
    read = [(ln.model.value, ln.qty.value, ln.unit.value, ln.unit_price.value) for ln in c.lines]
    assert read == lines
    assert all(ln.amount_consistent for ln in c.lines)


@given(rows, angles)
def test_prose_contract_round_trips(
    lines: list[tuple[str, Decimal, str, Decimal]], angle: float
) -> None:
    page = [
        line(
            f"{i + 1}.型号：{m}，数量：{q}{u}，单价：{p:.2f}元，金额：{q * p:.2f}元",
            110,
            700 + 60 * i,
            angle_deg=angle,
            size=22,
        )
        for i, (m, q, u, p) in enumerate(lines)
    ]
    c = parse_contract([page])
    read = [(ln.model.value, ln.qty.value, ln.unit.value, ln.unit_price.value) for ln in c.lines]
    assert read == lines


@given(st.text(max_size=40), st.floats(0, 1))
def test_arbitrary_text_never_crashes_and_never_invents_confidence(
    text: str, confidence: float
) -> None:
    c = parse_contract([[line(text or "x", 90, 100, confidence=confidence)]])
    for field in (c.buyer, c.seller, c.number, c.delivery_address, c.requested_date):
        assert field.confidence <= confidence + 1e-9
        if field.value is None:
            assert field.confidence == 0
