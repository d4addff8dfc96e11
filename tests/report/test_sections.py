"""Extra report sections: the ERP stock reconciliation table inside the health report."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from html.parser import HTMLParser

from orderflow.domain import StockPosition
from orderflow.erp import reconcile_stock
from orderflow.metrics import Period, compute_health
from orderflow.policy import Policy
from orderflow.report import ReportSection, build_report, read_json, render_html, render_json

AT = dt.datetime(2026, 3, 31, 12, tzinfo=dt.UTC)


def _report(section: ReportSection) -> str:
    policy = Policy()
    snapshot = compute_health(
        orders=[], records=[], incidents=[], queries=[], verified_order_ids=set(),
        policy=policy, period=Period.month(2026, 3, "Asia/Shanghai"),
    )  # fmt: skip
    report = build_report(snapshot, policy=policy, generated_at=AT, sections=[section])
    assert read_json(render_json(report)) == report
    return render_html(report)


def test_erp_200_shelf_87_shows_in_the_health_report() -> None:
    stock = reconcile_stock(
        {"Q23-7": Decimal(200), "B-1": Decimal(50)},
        [StockPosition("Q23-7", 87), StockPosition("B-1", 50)],
        generated_at=AT,
    )
    section = ReportSection(**stock.health_section())
    html = _report(section)
    assert section.id in html
    assert "Q23-7" in html and ">200<" in html and ">87<" in html
    assert "B-1" not in html  # no gap, no row


def test_section_cells_are_escaped() -> None:
    section = ReportSection("x", "t", "s", ("a",), [["<script>alert(1)</script>"]])
    html = _report(section)
    assert "<script>alert" not in html
    parser = HTMLParser()
    parser.feed(html)
