"""``orderflow whatif``: the side-by-side table, its HTML and report section, bad input."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from orderflow.cli import main
from orderflow.report import ReportSection
from orderflow.service import OrderService

POLICY = """
version = 2
[safety]
regular = 1.0
custom = 1.0
"""


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory, recorded: OrderService) -> Path:
    path = tmp_path_factory.mktemp("db") / "year.db"
    with sqlite3.connect(path) as target:
        # the session's year lives in memory; the command reads a file
        recorded.store._conn().backup(target)  # type: ignore[attr-defined]
    return path


def test_whatif_prints_the_table_and_writes_html_and_a_section(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    policy = tmp_path / "lenient.toml"
    policy.write_text(POLICY, encoding="utf-8")
    html, section = tmp_path / "w.html", tmp_path / "w.json"
    argv = ["whatif", "--db", str(db), "--month", "2026-03", "--policy", str(policy),
            "--html", str(html), "--section-out", str(section)]  # fmt: skip
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "what-if 2026-03" in out and "lenient" in out and "On-time delivery" in out
    assert "<table>" in html.read_text("utf-8")
    sec = ReportSection(**json.loads(section.read_text("utf-8")))
    assert sec.columns == ("Measure", "recorded", "lenient")
    report = tmp_path / "r.html"
    argv = ["report", "--db", str(db), "--month", "2026-03", "--out", str(report),
            "--section", str(section), "--trust-verified"]  # fmt: skip
    assert main(argv) == 0
    assert 'id="whatif"' in report.read_text("utf-8")


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--months", "0"], "--months 0"),
        ([], "give at least one --policy"),
        (["--policy", "{tmp}/missing.toml"], "cannot read policy file"),
        (["--policy", "{tmp}/p.toml", "--html", "{tmp}/no/w.html"], "does not exist"),
    ],
)
def test_bad_input_is_one_line_before_any_work(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], message: str
) -> None:
    (tmp_path / "p.toml").write_text(POLICY, encoding="utf-8")
    args = [a.format(tmp=tmp_path) for a in extra]
    if "--policy" not in args and "--months" in args:
        args += ["--policy", str(tmp_path / "p.toml")]
    assert main(["whatif", "--db", str(db), "--month", "2026-03", *args]) == 1
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
