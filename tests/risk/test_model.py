"""The delivery-risk model on a small simulated history (runs under CI=true; a few seconds)."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import pytest

from orderflow import InputError, MissingExtra
from orderflow.risk.evaluation import auc, precision_at
from orderflow.risk.features import FEATURE_HASH, FEATURES, SubmissionRecord, rules_score, vector
from orderflow.risk.history import simulate_history
from orderflow.risk.model import HEADER, ModelMismatch, RiskModel
from tests.risk.conftest import needs_lightgbm

HISTORY = simulate_history(12_000, seed=5, per_day=100)
CUT = HISTORY[-1].submitted.toordinal() - 20
TRAIN = [r for r in HISTORY if r.submitted.toordinal() < CUT]
TEST = [r for r in HISTORY if r.submitted.toordinal() >= CUT]


@pytest.fixture(scope="module")
def model() -> RiskModel:
    needs_lightgbm()
    return RiskModel.train(TRAIN, rounds=60)


def test_auc_and_precision_by_hand() -> None:
    assert auc([0.1, 0.4, 0.35, 0.8], [False, False, True, True]) == 0.75
    assert auc([1, 1, 1], [True, False, True]) == 0.5  # ties count half
    assert auc([0.2, 0.9], [True, True]) == 0.5  # one class only
    # top 20 % of 10 = the 2 highest: one of them late
    scores = [9, 8, 7, 6, 5, 4, 3, 2, 1, 0]
    labels = [True, False, True, False, False, False, False, False, False, False]
    assert precision_at(scores, labels, 0.2) == 0.5
    # a tie at the cut is shared: 2 of 4 tied are late, 2 taken
    assert precision_at([1, 1, 1, 1, 0], [True, False, True, False, True], 0.4) == 0.5


def test_history_has_visible_causes_and_no_leak() -> None:
    late = [r for r in HISTORY if r.late]
    assert 0.1 < len(late) / len(HISTORY) < 0.35
    rush = [r for r in HISTORY if r.lead_days <= 6]
    assert sum(bool(r.late) for r in rush) / len(rush) > 0.5
    # the customer's late share only counts deliveries before the submission
    first: dict[str, SubmissionRecord] = {}
    for r in HISTORY:
        first.setdefault(r.customer_id, r)
    assert all(math.isnan(r.customer_late_share) for r in first.values())


def test_model_beats_the_rules_on_a_later_period(model: RiskModel) -> None:
    labels = [bool(r.late) for r in TEST]
    model_auc = auc(model.probabilities(TEST), labels)
    rules_auc = auc([float(rules_score(r)) for r in TEST], labels)
    assert model_auc > 0.85
    assert model_auc > rules_auc + 0.2


def test_score_explains_itself(model: RiskModel) -> None:
    rush = next(r for r in TEST if r.lead_days <= 3 and r.late)
    score = model.score(rush)
    assert score.probability > 0.5
    assert len(score.reasons) == 3
    top = score.reasons[0]
    assert top.feature == "lead_days"
    assert top.text.startswith(
        f"lead time asked {rush.lead_days} days / 要求交期{rush.lead_days}天"
    )
    assert "raises risk" in top.text
    # contributions + expected value add up to the probability (LightGBM's own)
    batch = model.probabilities([rush])[0]
    assert score.probability == pytest.approx(batch, rel=1e-6)


def test_model_file_round_trip(model: RiskModel, tmp_path: Path) -> None:
    path = model.save(tmp_path / "model.txt")
    head = json.loads(path.read_text(encoding="utf-8").split("\n", 1)[0][len(HEADER) :])
    assert head["features"] == list(FEATURES)
    assert head["feature_hash"] == FEATURE_HASH
    loaded = RiskModel.load(path)
    assert loaded.probabilities(TEST[:50]) == model.probabilities(TEST[:50])
    assert loaded.score(TEST[0]) == model.score(TEST[0])


def test_mismatched_feature_set_is_refused(model: RiskModel, tmp_path: Path) -> None:
    path = model.save(tmp_path / "model.txt")
    head, text = path.read_text(encoding="utf-8").split("\n", 1)
    meta = json.loads(head[len(HEADER) :])
    meta["features"] = meta["features"][:-1]
    path.write_text(HEADER + json.dumps(meta) + "\n" + text, encoding="utf-8")
    with pytest.raises(ModelMismatch, match="retrain"):
        RiskModel.load(path)
    meta["features"], meta["feature_hash"] = list(FEATURES), "0" * 16
    path.write_text(HEADER + json.dumps(meta) + "\n" + text, encoding="utf-8")
    with pytest.raises(ModelMismatch, match="features"):
        RiskModel.load(path)


def test_changed_model_text_is_refused(model: RiskModel, tmp_path: Path) -> None:
    path = model.save(tmp_path / "model.txt")
    path.write_text(path.read_text(encoding="utf-8").replace("Tree=0", "Tree=9"), encoding="utf-8")
    with pytest.raises(ModelMismatch, match="changed"):
        RiskModel.load(path)
    (tmp_path / "plain.txt").write_text("tree\n")
    with pytest.raises(ModelMismatch, match="not an orderflow risk model"):
        RiskModel.load(tmp_path / "plain.txt")


def test_too_little_history_is_refused() -> None:
    needs_lightgbm()
    with pytest.raises(InputError, match="not enough history"):
        RiskModel.train(TRAIN[:20])
    on_time = [r for r in TRAIN if not r.late][:500]
    with pytest.raises(InputError, match="both late and on-time"):
        RiskModel.train(on_time)


def test_missing_extra_names_the_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "lightgbm", None)
    with pytest.raises(MissingExtra, match=r'pip install "orderflow\[risk\]"'):
        RiskModel.train(TRAIN)


def test_vector_order_matches_features() -> None:
    record: SubmissionRecord = TEST[0]
    row = vector(record)
    assert len(row) == len(FEATURES)
    assert row[FEATURES.index("lead_days")] == record.lead_days
    assert row[FEATURES.index("month")] == record.submitted.month
