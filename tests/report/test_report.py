"""The report model, its HTML (well-formed, escaped, linked) and its JSON round trip."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from decimal import Decimal
from html.parser import HTMLParser

import pytest

from orderflow.exceptions import InputError
from orderflow.metrics.calculators import ExceptionHeatmap
from orderflow.policy.model import ExceptionCategory
from orderflow.report import (
    HealthReport,
    RowStatus,
    build_report,
    order_anchor,
    read_json,
    render_html,
    render_json,
)
from orderflow.report._html import heatmap_svg
from tests.report.fixtures import EVIL, FACTORY, POLICY, sample_report

SVG = "{http://www.w3.org/2000/svg}"
VOID = {"meta", "br", "img", "input", "link", "hr"}


class _Balance(HTMLParser):
    """Checks that every non-void tag is closed in order."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.hrefs: list[str] = []
        self.ids: set[str] = set()
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if a.get("id"):
            self.ids.add(a["id"] or "")
        if tag == "a" and a.get("href"):
            self.hrefs.append(a["href"] or "")
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if a.get("id"):
            self.ids.add(a["id"] or "")

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"unexpected </{tag}>, open: {self.stack[-3:]}")
        else:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


@pytest.fixture(scope="module")
def report() -> HealthReport:
    return sample_report()


@pytest.fixture(scope="module")
def page(report: HealthReport) -> str:
    return render_html(report)


def test_report_names_the_orders_needing_attention(report: HealthReport) -> None:
    # late-1: late record (50 min), late delivery; EVIL: late record, open incident,
    # unverified; ok-1: stale view (30 h gap); pend-1: unverified.
    assert report.snapshot.order_ids() == tuple(sorted(["late-1", EVIL, "ok-1", "pend-1"]))
    assert [d.order_id for d in report.orders] == sorted(["late-1", EVIL, "ok-1", "pend-1"])
    evil = report.drill(EVIL)
    assert evil is not None
    assert [r.seq for r in evil.changes] == [1]
    assert [i.id for i in evil.incidents] == ["i2"]
    assert report.drill("nobody") is None
    assert len(report.drill("late-1").changes) == 4  # type: ignore[union-attr]


def test_headline_rows_compare_with_targets(report: HealthReport) -> None:
    rows = {r.key: r for r in report.headline}
    # 9 records in January, 2 recorded more than 15 min late -> 7/9 = 77.78 %
    assert rows["timeliness"].value == "77.78 %"
    assert rows["timeliness"].status is RowStatus.MISS
    assert rows["timeliness"].basis.startswith("7 / 9 ")
    # resolved closures 6 h and 1 h -> median 3.5 h <= 4 h
    assert rows["closure"].value == "3.50 h"
    assert rows["closure"].status is RowStatus.OK
    # 2 views, 1 call -> 66.7 %
    assert rows["self_service"].value == "66.7 %"
    # deliveries: ok-1 on 8 Jan (requested 20 Jan), late-1 on 9 Jan (requested 5 Jan)
    assert rows["on_time"].value == "50.0 %"
    assert rows["on_time"].status is RowStatus.INFO
    # 4 orders in flight, 2 verified
    assert rows["traceability"].value == "50.0 %"
    # views: ok-1 shows pending on 3 Jan 09:00, left it 2 Jan 03:00 -> 30 h;
    # late-1 shows production on 4 Jan 10:00, real since 09:00 -> 0 h; mean 15 h
    assert rows["accuracy"].value == "± 15.00 h"
    assert report.snapshot.accuracy.mean_gap_hours == Decimal("15.000")


def test_html_is_well_formed_and_self_contained(page: str) -> None:
    checker = _Balance()
    checker.feed(page)
    checker.close()
    assert checker.errors == []
    assert checker.stack == []
    # The whole document is also well-formed XML (only XML's own entities are used).
    root = ET.fromstring(page.split("\n", 1)[1])
    svgs = list(root.iter(f"{SVG}svg"))
    assert {s.get("id") for s in svgs} == {
        "chart-status",
        "chart-heatmap",
        "chart-funnel",
        "chart-closure",
    }
    for svg in svgs:
        assert float(svg.get("width") or 0) > 0 and float(svg.get("height") or 0) > 0
        ET.fromstring(ET.tostring(svg))  # each chart stands alone
    assert '<meta charset="utf-8"/>' in page
    assert "<script" not in page
    assert not re.search(r"""(src|href)=["'](https?:)?//""", page)  # no external assets
    assert "订单履约健康报告" in page


def test_every_order_link_has_its_section(page: str, report: HealthReport) -> None:
    checker = _Balance()
    checker.feed(page)
    for oid in report.snapshot.order_ids():
        anchor = order_anchor(oid)
        assert f"#{anchor}" in checker.hrefs, oid
        assert anchor in checker.ids, oid
    internal = [h[1:] for h in checker.hrefs if h.startswith("#")]
    assert internal and all(target in checker.ids for target in internal)


def test_all_text_is_escaped(page: str) -> None:
    assert "<script>alert(1)" not in page
    assert "<b>&" not in page
    assert "宁波&lt;液压&gt;阀厂 &amp; Co" in page
    checker = _Balance()
    checker.feed(page)
    text = "".join(checker.text)
    assert FACTORY in text
    assert EVIL in text
    assert "carrier <late>" in text


def test_order_anchor_is_safe_and_injective() -> None:
    assert order_anchor("HY-1_a") == "order-HY-1_a"
    assert re.fullmatch(r"order-[A-Za-z0-9_.-]+", order_anchor(EVIL))
    assert order_anchor("a.b") != order_anchor("a.2eb") != order_anchor("a/b")


def test_order_url_template() -> None:
    page = render_html(sample_report(order_url="https://erp.example/orders/{order_id}"))
    assert 'href="https://erp.example/orders/late-1"' in page
    assert "https://erp.example/orders/o%3Cb%3E%26%221%27" in page
    with pytest.raises(InputError, match="order_url must be a template"):
        sample_report(order_url="orders/{id}")


def test_build_report_needs_an_aware_time(report: HealthReport) -> None:
    import datetime as dt

    with pytest.raises(InputError, match="timezone-aware"):
        build_report(report.snapshot, policy=POLICY, generated_at=dt.datetime(2026, 2, 5))


def test_json_round_trip(report: HealthReport) -> None:
    text = render_json(report)
    again = read_json(text)
    assert again == report
    assert render_json(again) == text
    assert "密封圈 Q23-7 缺货" in text  # UTF-8, not \\u escapes
    with pytest.raises(InputError):
        read_json('{"title": 1}')


def test_empty_month_renders() -> None:
    from orderflow.metrics import compute_health

    snap = compute_health(
        orders=[],
        records=[],
        incidents=[],
        queries=[],
        verified_order_ids=(),
        policy=POLICY,
        period=sample_report().snapshot.period,
    )
    import datetime as dt

    r = build_report(snap, policy=POLICY, generated_at=dt.datetime(2026, 2, 5, tzinfo=dt.UTC))
    page = render_html(r)
    ET.fromstring(page.split("\n", 1)[1])
    assert "No order needs attention this month." in page
    assert all(row.status is RowStatus.INFO for row in r.headline)
    assert read_json(render_json(r)) == r


def test_heatmap_makes_room_for_long_category_labels() -> None:
    def first_cell_x(label: str) -> float:
        heatmap = ExceptionHeatmap(("x",), ("2026-W45",), ((3,),), 3)
        svg = ET.fromstring(heatmap_svg(heatmap, [ExceptionCategory("x", label, "#ff0000")]))
        cells = [r for r in svg.iter("{http://www.w3.org/2000/svg}rect") if r.find("*") is not None]
        return float(cells[0].get("x", "0"))

    short, long = first_cell_x("Logistics"), first_cell_x("Mould maintenance downtime " * 3)
    assert short == 273  # the usual column: nothing moves for ordinary labels
    # 81 characters at 12.5 px need well over 500 px before the first cell
    assert long > 12.5 * 0.5 * 81 > short
