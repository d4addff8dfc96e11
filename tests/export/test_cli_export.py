"""``orderflow export``: files written, format chosen by flag or suffix, bad paths refused."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from orderflow.cli import main
from orderflow.service import OrderService


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory, year: OrderService) -> Path:
    path = tmp_path_factory.mktemp("db") / "year.db"
    with sqlite3.connect(path) as target:
        # the session year lives in memory; the commands read files
        year.store._conn().backup(target)  # type: ignore[attr-defined]
    return path


def test_json_sqlite_and_xes_from_the_command_line(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["export", "ocel", "--db", str(db), "--out", str(tmp_path / "a.jsonocel")]) == 0
    assert "events" in json.loads((tmp_path / "a.jsonocel").read_text("utf-8"))
    assert main(["export", "ocel", "--db", str(db), "--out", str(tmp_path / "b.sqlite")]) == 0
    out = tmp_path / "c.ocel"
    assert main(["export", "ocel", "--db", str(db), "--out", str(out), "--format", "sqlite"]) == 0
    assert out.read_bytes().startswith(b"SQLite format 3")
    assert main(["export", "xes", "--db", str(db), "--out", str(tmp_path / "d.xes")]) == 0
    printed = capsys.readouterr().out
    assert "OCEL 2.0 JSON written" in printed and "traces" in printed


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["ocel", "--out", "{tmp}/missing/x.jsonocel"], "does not exist; create it first"),
        (["ocel", "--out", "{tmp}"], "is a folder"),
        (["xes", "--out", "{tmp}/x.xes", "--db", "{tmp}/nope.db"], "no orderflow database"),
    ],
)
def test_bad_paths_are_one_line_errors(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    args = [a.format(tmp=tmp_path) for a in argv]
    if "--db" not in args:
        args += ["--db", str(db)]
    assert main(["export", *args]) == 1
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_an_sqlite_export_never_overwrites(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "x.sqlite"
    out.write_bytes(b"keep me")
    assert main(["export", "ocel", "--db", str(db), "--out", str(out)]) == 1
    assert out.read_bytes() == b"keep me"
