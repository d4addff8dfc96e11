"""The synthetic contract generator: deterministic, ground truth beside each image."""

from __future__ import annotations

import json
from pathlib import Path

from orderflow.intake import MasterData
from orderflow.intake.synthetic import DEGRADATIONS, LAYOUTS, generate, write_corpus


def test_same_seed_same_contract(master: MasterData) -> None:
    a = generate(3, 4, degraded=True, master=master)
    b = generate(3, 4, degraded=True, master=master)
    assert a == b


def test_truth_matches_what_is_drawn(master: MasterData) -> None:
    g = generate(3, 0, degraded=False, master=master)
    t = g.truth
    assert t.layout == LAYOUTS[0]
    assert t.signature
    assert t.degradations == ()
    assert any(c.id == t.buyer_id and c.name == t.buyer for c in master.customers)
    assert all(ln.amount == ln.qty * ln.unit_price for ln in t.lines)
    assert {ln.model for ln in t.lines} <= {p.code for p in master.products}


def test_degraded_contracts_are_rotated_and_damaged(master: MasterData) -> None:
    seen: set[str] = set()
    for i in range(1, 24, 2):
        t = generate(3, i, degraded=True, master=master).truth
        assert t.degradations[0] == "rotation"
        seen.update(t.degradations)
        assert t.signature == ("missing_signature_page" not in t.degradations)
    assert seen == set(DEGRADATIONS)


def test_corpus_has_truth_beside_images(tmp_path: Path, master: MasterData) -> None:
    written = write_corpus(tmp_path, 3, seed=5, master=master)
    assert [p.name for p in written] == ["c0000.json", "c0001.json", "c0002.json"]
    truth = json.loads(written[2].read_text(encoding="utf-8"))
    assert truth["layout"] == "two_page"
    assert all((tmp_path / name).is_file() for name in truth["pages"])
