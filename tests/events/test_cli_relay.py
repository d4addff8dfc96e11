"""``orderflow relay`` and ``orderflow demo --relay`` from the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from orderflow.cli import main


def test_relay_to_files_then_status(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "r.db"
    assert main(["simulate", "--db", str(db), "--orders", "30", "--quiet"]) == 0
    assert main(["relay", "--db", str(db), "--status"]) == 0
    pending = int(capsys.readouterr().out.split("pending ")[1].split(",")[0])
    events, notices = tmp_path / "events.jsonl", tmp_path / "notices.jsonl"
    args = ["relay", "--db", str(db), "--to", f"file:{events}", "--notify", f"file:{notices}"]
    assert main(args) == 0
    assert f"delivered {pending:,} event(s)" in capsys.readouterr().out
    lines = events.read_text(encoding="utf-8").splitlines()
    assert len(lines) == pending and len({json.loads(x)["id"] for x in lines}) == pending
    links = [n for n in notices.read_text(encoding="utf-8").splitlines() if "可实时追踪" in n]
    assert len(links) == 30  # every order's customer got the link message once
    assert main(["relay", "--db", str(db), "--status"]) == 0
    assert "pending 0, retrying 0, dead 0" in capsys.readouterr().out


def test_relay_needs_a_target_and_a_known_scheme(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "r.db"
    assert main(["simulate", "--db", str(db), "--orders", "3", "--quiet"]) == 0
    capsys.readouterr()
    assert main(["relay", "--db", str(db)]) == 1
    assert "say where to" in capsys.readouterr().err
    assert main(["relay", "--db", str(db), "--to", "ftp://x"]) == 1
    assert "use nats://" in capsys.readouterr().err
    assert main(["relay", "--db", str(db), "--to", "https://127.0.0.1:9/h"]) == 1
    assert "--secret-file" in capsys.readouterr().err


def test_the_demo_publishes_its_year_to_the_local_nats(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.events.test_jetstream import NATS_URL, _sink

    _sink("OF_PROBE", "ofprobe").close()  # skips without NATS (fails under CI)
    out = tmp_path / "report.html"
    code = main(["demo", "--db", str(tmp_path / "d.db"), "--orders", "40", "--quiet", "--out",
                 str(out), "--json", str(tmp_path / "r.json"), "--relay", NATS_URL])  # fmt: skip
    assert code == 0
    text = capsys.readouterr().out
    assert "events: " in text and f"published to {NATS_URL}" in text
