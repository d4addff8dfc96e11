"""Run-time adjustable policy parameters (R4): frozen model, document schema, store."""

from __future__ import annotations

from orderflow.policy.model import (
    ExceptionCategory,
    Policy,
    RiskThresholds,
    SafetyFactors,
    StageTimeouts,
)
from orderflow.policy.schema import load_policy, parse_policy, policy_document
from orderflow.policy.store import PolicyStore

__all__ = [
    "ExceptionCategory",
    "Policy",
    "PolicyStore",
    "RiskThresholds",
    "SafetyFactors",
    "StageTimeouts",
    "load_policy",
    "parse_policy",
    "policy_document",
]
