"""The delivery-risk model (R13): LightGBM, explained by its native contributions.

Needs the ``risk`` extra (``pip install "orderflow[risk]"``: LightGBM, which on Debian
also needs the OpenMP runtime ``libgomp1``). :meth:`RiskModel.train` fits a
gradient-boosted classifier of "delivered late" on :class:`SubmissionRecord` rows;
:meth:`RiskModel.score` gives an order's probability of being late and its three
largest per-feature contributions (LightGBM's ``pred_contrib``, in log-odds) in words.

A saved model is LightGBM's text format after one header line::

    # orderflow-risk-model {"features": [...], "feature_hash": "...", "sha256": "...", ...}

``sha256`` covers the LightGBM text; loading checks it, the feature list and its hash
against this orderflow's :data:`~orderflow.risk.features.FEATURES`, and refuses a
mismatch (:class:`ModelMismatch`) rather than scoring with misread columns.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import attrs

from orderflow._extras import require
from orderflow.exceptions import InputError
from orderflow.risk.features import (
    CATEGORICAL,
    FEATURE_HASH,
    FEATURES,
    SubmissionRecord,
    describe,
    vector,
)

__all__ = ["HEADER", "ModelMismatch", "Reason", "RiskModel", "RiskScore"]

HEADER = "# orderflow-risk-model "
"""How the first line of a saved model starts."""

# Small trees: per-order contributions (TreeSHAP) cost grows with leaves x trees, and the
# scoring budget is 2 ms at the 99th percentile; 7 leaves lose nothing measurable in AUC
# on the simulated history against 31.
PARAMS: dict[str, Any] = {
    "objective": "binary",
    "learning_rate": 0.1,
    "num_leaves": 7,
    "min_data_in_leaf": 100,
    "feature_fraction": 0.9,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "deterministic": True,
    "force_row_wise": True,
    "verbose": -1,
}
"""LightGBM parameters (``seed`` and ``num_threads`` are added per run)."""


class ModelMismatch(InputError):
    """A saved risk model does not fit this orderflow (features, hash or file damaged)."""


@attrs.frozen
class Reason:
    """One feature's contribution to a score (log-odds), with its value, in words."""

    feature: str
    value: float
    contribution: float
    text: str


@attrs.frozen
class RiskScore:
    """An order's probability of being delivered late and its top three reasons."""

    order_id: str
    probability: float
    reasons: tuple[Reason, ...]

    def __str__(self) -> str:
        lines = [f"{self.order_id}: late-delivery risk / 延期风险 {self.probability:.1%}"]
        lines += [f"  {i}. {r.text}" for i, r in enumerate(self.reasons, 1)]
        return "\n".join(lines)


def _lgb() -> Any:
    return require("lightgbm", "risk")


def _matrix(records: Sequence[SubmissionRecord]) -> Any:
    np = require("numpy", "risk")
    return np.asarray([vector(r) for r in records], dtype=np.float64)


class RiskModel:
    """A trained delivery-risk model with its feature list and fingerprint."""

    def __init__(self, booster: Any, meta: dict[str, Any]) -> None:
        self.booster = booster
        self.meta = meta
        self.features: tuple[str, ...] = tuple(meta["features"])

    @classmethod
    def train(
        cls,
        records: Sequence[SubmissionRecord],
        *,
        rounds: int = 200,
        seed: int = 7,
        threads: int = 2,
    ) -> RiskModel:
        """Fit on the records with a known outcome; :class:`InputError` if too few."""
        lgb = _lgb()
        known = [r for r in records if r.late is not None]
        late = sum(1 for r in known if r.late)
        if len(known) < 50 or late == 0 or late == len(known):
            raise InputError(
                f"训练数据不足 / not enough history to train: {len(known)} orders with a known "
                f"outcome, {late} late; need at least 50 with both late and on-time ones"
            )
        started = time.perf_counter()
        data = lgb.Dataset(
            _matrix(known),
            label=[1.0 if r.late else 0.0 for r in known],
            feature_name=list(FEATURES),
            categorical_feature=list(CATEGORICAL),
            free_raw_data=True,
            params={"verbose": -1},
        )
        params = {**PARAMS, "seed": seed, "num_threads": threads}
        booster = lgb.train(params, data, num_boost_round=rounds)
        meta = {
            "features": list(FEATURES),
            "feature_hash": FEATURE_HASH,
            "rows": len(known),
            "late_share": round(late / len(known), 4),
            "rounds": rounds,
            "train_seconds": round(time.perf_counter() - started, 3),
            "lightgbm": str(lgb.__version__),
        }
        return cls(booster, meta)

    # --- files --------------------------------------------------------------------------
    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the model (header line + LightGBM text) to ``path``."""
        text = self.booster.model_to_string()
        meta = {**self.meta, "sha256": hashlib.sha256(text.encode()).hexdigest()}
        out = Path(path)
        out.write_text(HEADER + json.dumps(meta, sort_keys=True) + "\n" + text, encoding="utf-8")
        return out

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> RiskModel:
        """Read a saved model; :class:`ModelMismatch` unless it fits these features."""
        try:
            raw = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"无法读取模型文件 / cannot read model file {path}: {exc}") from None
        head, _, text = raw.partition("\n")
        if not head.startswith(HEADER):
            raise ModelMismatch(
                f"{path} 不是 orderflow 风险模型 / is not an orderflow risk model (no header "
                "line); train one with 'orderflow risk train --out FILE'"
            )
        try:
            meta = json.loads(head[len(HEADER) :])
        except json.JSONDecodeError:
            raise ModelMismatch(f"{path}: the header line is damaged; train again") from None
        if hashlib.sha256(text.encode()).hexdigest() != meta.get("sha256"):
            raise ModelMismatch(f"{path}: 模型文件已损坏 / the model text was changed; train again")
        if meta.get("features") != list(FEATURES) or meta.get("feature_hash") != FEATURE_HASH:
            raise ModelMismatch(
                f"{path}: 模型特征与当前版本不符 / the model was trained on features "
                f"{meta.get('feature_hash')} ({len(meta.get('features', []))} columns) but this "
                f"orderflow computes {FEATURE_HASH} ({len(FEATURES)}); retrain with "
                "'orderflow risk train'"
            )
        booster = _lgb().Booster(model_str=text)
        if list(booster.feature_name()) != list(FEATURES):
            raise ModelMismatch(f"{path}: LightGBM's feature names differ from the header")
        return cls(booster, meta)

    # --- scoring ------------------------------------------------------------------------
    def probabilities(self, records: Sequence[SubmissionRecord]) -> list[float]:
        """Probability of late delivery per record (batch, all threads)."""
        if not records:
            return []
        return [float(p) for p in self.booster.predict(_matrix(records))]

    def score(self, record: SubmissionRecord, *, top: int = 3) -> RiskScore:
        """One order's probability and its ``top`` contributions in words (one thread)."""
        row = vector(record)
        contrib = self.booster.predict([row], pred_contrib=True, num_threads=1)[0]
        raw = float(sum(contrib))
        probability = 1.0 / (1.0 + math.exp(-raw))
        parts = sorted(
            range(len(self.features)), key=lambda i: abs(float(contrib[i])), reverse=True
        )[:top]
        reasons = tuple(
            Reason(
                self.features[i],
                row[i],
                float(contrib[i]),
                describe(self.features[i], row[i], float(contrib[i])),
            )
            for i in parts
        )
        return RiskScore(record.order_id, probability, reasons)
