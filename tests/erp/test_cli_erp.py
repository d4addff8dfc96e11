"""``orderflow erp check|sync|feed|reconcile`` against a K3-shaped SQLite database (R7, R6)."""

from __future__ import annotations

import csv
import json
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa

from orderflow.bootstrap import connect
from orderflow.cli import main
from orderflow.domain import Component
from orderflow.testing.k3_fixture import SEAL_RING, K3Writer, populate_k3

ORDERS = 40


@pytest.fixture
def erp_url(sqlite_engine: sa.Engine) -> str:
    """A K3 SQLite database with 40 orders; the seal ring has 200 on hand in the ERP."""
    populate_k3(sqlite_engine, orders=ORDERS, lines_per_order=3, stock={SEAL_RING: Decimal(200)})
    return str(sqlite_engine.url)


@pytest.fixture
def db(tmp_path: Path) -> str:
    """Where the orderflow store goes (a SQLite file path)."""
    return str(tmp_path / "orderflow.db")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["erp", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_check_reports_a_fitting_schema(capsys: pytest.CaptureFixture[str], erp_url: str) -> None:
    code, out, _ = run(capsys, "check", "--erp", erp_url)
    assert code == 0
    assert "mapping 'kingdee-k3-wise' fits the ERP schema" in out
    code, out, _ = run(capsys, "check", "--erp", erp_url, "--json")
    assert code == 0 and json.loads(out)["ok"] is True


def test_check_names_every_missing_table_on_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'other.db'}")
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE SEOrder (FInterID INTEGER, FBillNo TEXT)"))
    engine.dispose()
    code, out, err = run(capsys, "check", "--erp", f"sqlite:///{tmp_path / 'other.db'}")
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and err.startswith("orderflow: ")
    assert "missing table SEOrderEntry" in err and "missing column SEOrder.FDate" in err
    code, out, _ = run(capsys, "check", "--erp", f"sqlite:///{tmp_path / 'other.db'}", "--json")
    assert code == 1 and "SEOrderEntry" in json.loads(out)["missing_tables"]


def test_sync_once_imports_and_is_idempotent(
    capsys: pytest.CaptureFixture[str], erp_url: str, db: str
) -> None:
    code, out, _ = run(capsys, "sync", "--once", "--erp", erp_url, "--db", db, "--quiet")
    assert code == 0
    assert f"{ORDERS} imported" in out
    svc = connect(f"sqlite:///{db}")
    assert len([o for o in svc.store.orders() if o.erp_id]) == ORDERS
    size = svc.store.audit_size()
    svc.audit.verify(deep=True)
    svc.store.close()
    code, out, _ = run(capsys, "sync", "--erp", erp_url, "--db", db, "--json")
    report = json.loads(out)
    assert code == 0 and (report["imported"], report["unchanged"]) == (0, ORDERS)
    svc = connect(f"sqlite:///{db}")
    assert svc.store.audit_size() == size
    svc.store.close()


def test_sync_follow_picks_up_changes(
    capsys: pytest.CaptureFixture[str], erp_url: str, db: str
) -> None:
    assert run(capsys, "sync", "--erp", erp_url, "--db", db)[0] == 0
    writer = K3Writer(sa.create_engine(erp_url))
    writer.update_line(1001, 1, FQty=Decimal(4242))
    code, out, _ = run(
        capsys,
        "sync",
        "--follow",
        "--interval",
        "10ms",
        "--max-runs",
        "2",
        "--erp",
        erp_url,
        "--db",
        db,
    )
    assert code == 0
    assert out.count("\n") == 1 and "1 updated" in out  # quiet runs print nothing
    writer.engine.dispose()


def test_feed_writes_jsonl_and_csv(
    capsys: pytest.CaptureFixture[str], erp_url: str, db: str, tmp_path: Path
) -> None:
    run(capsys, "sync", "--erp", erp_url, "--db", db)
    out_file = tmp_path / "feed.jsonl"
    code, _, err = run(capsys, "feed", "--db", db, "--format", "jsonl", "--out", str(out_file))
    assert code == 0 and f"{ORDERS} feed row(s)" in err
    rows = [json.loads(x) for x in out_file.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == ORDERS and rows[0]["FInterID"] == 1001
    assert rows[0]["FBillNo"] == "SEORD001001"
    csv_file = tmp_path / "feed.csv"
    code, _, _ = run(capsys, "feed", "--db", db, "--format", "csv", "--out", str(csv_file))
    with csv_file.open(encoding="utf-8", newline="") as fh:
        table = list(csv.DictReader(fh))
    assert code == 0 and len(table) == ORDERS and table[0]["FInterID"] == "1001"
    code, out, _ = run(capsys, "feed", "--db", db)
    assert code == 0 and len(out.splitlines()) == ORDERS  # stdout by default


def test_reconcile_writes_the_discrepancy_report(
    capsys: pytest.CaptureFixture[str], erp_url: str, db: str, tmp_path: Path
) -> None:
    run(capsys, "sync", "--erp", erp_url, "--db", db)
    svc = connect(f"sqlite:///{db}")
    svc.put_component(Component(SEAL_RING, "seal ring"))  # counted stock needs master data
    svc.set_stock(SEAL_RING, 87)  # the shelf has 87, the ERP says 200
    svc.store.close()
    report_file = tmp_path / "stock.json"
    code, out, _ = run(capsys, "reconcile", "--erp", erp_url, "--db", db, "--out", str(report_file))
    assert code == 0 and "report written to" in out
    report = json.loads(report_file.read_text(encoding="utf-8"))
    seal = next(d for d in report["discrepancies"] if d["component"] == SEAL_RING)
    assert (seal["erp_qty"], seal["orderflow_qty"], seal["gap"]) == ("200", "87", "113")
    assert report["compared"] >= 500
    assert report["unreadable"] == []


def test_errors_are_one_line_with_exit_code_1(
    capsys: pytest.CaptureFixture[str], erp_url: str, db: str, tmp_path: Path
) -> None:
    cases = [
        ("sync", "--erp", f"sqlite:///{tmp_path / 'nope.db'}", "--db", db),
        ("sync", "--erp", erp_url, "--db", db, "--mapping", "no-such-preset"),
        ("sync", "--erp", erp_url, "--db", db, "--follow", "--interval", "soon"),
        ("sync", "--erp", "nonsense-url", "--db", db),
        ("feed", "--db", str(tmp_path / "missing.db")),
        ("reconcile", "--erp", erp_url, "--db", str(tmp_path / "missing.db")),
    ]
    for argv in cases:
        code, _, err = run(capsys, *argv)
        assert code == 1, argv
        assert err.startswith("orderflow: ") and err.count("\n") == 1, (argv, err)
    assert not (tmp_path / "nope.db").exists()
