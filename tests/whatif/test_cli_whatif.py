"""``orderflow whatif``: the side-by-side table, its HTML and report section, bad input."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from orderflow.cli import main
from orderflow.exceptions import InputError
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
        (["--policy", "{tmp}/p.toml", "--jobs", "0"], "jobs must be at least 1"),
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


def test_jobs_print_the_same_table_as_one_replay_after_another(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "lenient.toml").write_text(POLICY, encoding="utf-8")
    (tmp_path / "patient.toml").write_text(
        "version = 2\n[timeouts.base_hours]\npending_review = 8\n", encoding="utf-8"
    )
    tables = []
    for jobs in ("1", "2"):
        argv = ["whatif", "--db", str(db), "--month", "2026-03", "--jobs", jobs,
                "--policy", str(tmp_path / "lenient.toml"),
                "--policy", str(tmp_path / "patient.toml"),
                "--html", str(tmp_path / "w.html")]  # fmt: skip
        assert main(argv) == 0
        *table, timing = capsys.readouterr().out.splitlines()
        assert timing.startswith("replayed ") and "under 2 policies" in timing
        tables.append(table)
    assert tables[0] == tables[1]
    assert tables[0][0].split()[-2:] == ["lenient", "patient"]


def test_a_failed_replay_is_one_line_naming_its_policy(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from orderflow.whatif import jobs

    def replay(*_: object, **__: object) -> None:
        raise InputError("the scan on stock/K001 at 1 changes no on-hand")

    monkeypatch.setattr(jobs, "replay", replay)
    (tmp_path / "lean.toml").write_text(POLICY, encoding="utf-8")
    argv = ["whatif", "--db", str(db), "--month", "2026-03", "--jobs", "2",
            "--policy", str(tmp_path / "lean.toml"),
            "--html", str(tmp_path / "w.html")]  # fmt: skip
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err == (
        "orderflow: the scan on stock/K001 at 1 changes no on-hand (in the replay under 'lean')\n"
    )
