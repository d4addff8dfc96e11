"""The orderflow command end to end on a small simulated year (in-process)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from orderflow.cli import main


def test_demo_writes_a_verified_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["demo", "--orders", "400", "--quiet", "--month", "2026-03"]) == 0
    out = capsys.readouterr().out
    assert "simulated 400 orders" in out
    assert "audit log verified" in out
    assert "Status-update timeliness" in out
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and "<svg" in html
    assert json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))


def test_simulate_report_verify_warnings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(tmp_path / "plant.db")
    assert main(["simulate", "--db", db, "--orders", "300", "--quiet"]) == 0
    assert main(["simulate", "--db", db, "--orders", "300", "--quiet"]) == 2  # no --replace
    section = tmp_path / "gaps.json"
    section.write_text(
        json.dumps({"id": "gaps", "title": "Stock gaps", "summary": "1 gap",
                    "columns": ["component"], "rows": [["Q23-7"]]}),
        encoding="utf-8",
    )  # fmt: skip
    out_html = tmp_path / "march.html"
    assert main(["report", "--db", db, "--month", "2026-03", "--out", str(out_html),
                 "--section", str(section)]) == 0  # fmt: skip
    assert "Stock gaps" in out_html.read_text(encoding="utf-8")
    assert main(["audit", "verify", "--db", db, "--deep"]) == 0
    assert main(["warnings", "--db", db]) == 0
    assert "order(s) overdue" in capsys.readouterr().out


def test_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("[1]", encoding="utf-8")
    code = main(["report", "--db", str(tmp_path / "x.db"), "--month", "2026-03",
                 "--out", str(tmp_path / "r.html"), "--section", str(bad)])  # fmt: skip
    assert code == 1
    err = capsys.readouterr().err
    assert err.startswith("orderflow: --section") and err.count("\n") == 1
    with pytest.raises(SystemExit):
        main(["report", "--month", "2026-13"])
    missing = tmp_path / "typo.db"
    assert main(["audit", "verify", "--db", str(missing)]) == 1
    assert "no orderflow database" in capsys.readouterr().err
    assert not missing.exists()  # a read command leaves nothing behind
    bad_year = tmp_path / "bad-year.db"
    assert main(["simulate", "--db", str(bad_year), "--orders", "-5", "--quiet"]) == 1
    assert "orders must be at least 1" in capsys.readouterr().err
    assert not bad_year.exists()  # refused parameters leave no empty database to trip over
