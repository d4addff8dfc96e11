"""``orderflow intake``: one real OCR run through the command line, and its refusals."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from orderflow.bootstrap import connect
from orderflow.cli import main
from orderflow.intake import MasterData
from orderflow.intake.synthetic import generate


def test_intake_prints_the_draft_as_json(
    engine: object, master: MasterData, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    contract = generate(17, 0, degraded=False, master=master)
    photo = tmp_path / "page1.png"
    photo.write_bytes(contract.pages[0])
    db = tmp_path / "plant.db"
    svc = connect(f"sqlite:///{db}")
    for customer in master.customers:
        svc.put_customer(customer)
    for product in master.products:
        svc.put_product(product)
    svc.store.close()

    code = main(["intake", str(photo), "--db", str(db), "--json"])

    out = json.loads(capsys.readouterr().out)
    assert code == (2 if out["review"] else 0)
    assert out["draft"]["customer_id"] == contract.truth.buyer_id
    assert [ln["product"] for ln in out["draft"]["lines"]] == [
        ln.model for ln in contract.truth.lines
    ]
    assert len(out["image_sha256"][0]) == 64


def test_missing_photo_is_one_line_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("rapidocr")
    assert main(["intake", str(tmp_path / "nope.jpg")]) == 1
    assert "cannot read contract photo" in capsys.readouterr().err


def test_without_the_extra_the_error_names_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "rapidocr", None)
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    assert main(["intake", str(tmp_path / "x.jpg")]) == 1
    assert 'pip install "orderflow[ocr]"' in capsys.readouterr().err
