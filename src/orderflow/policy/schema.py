"""Policy documents (TOML, JSON or a mapping) validated by pydantic at the boundary (R4).

Errors name the offending key (``safety.regular: Input should be greater than or equal
to 1``) and are raised as :class:`~orderflow.PolicyError`; inside the core, only the
frozen :class:`~orderflow.policy.Policy` is seen.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping
from decimal import Decimal
from itertools import pairwise
from pathlib import Path
from typing import Annotated, Any

import pydantic
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from orderflow.clock import check_timezone
from orderflow.exceptions import PolicyError
from orderflow.policy.model import (
    ExceptionCategory,
    Policy,
    RiskThresholds,
    SafetyFactors,
    StageTimeouts,
)
from orderflow.serialization import unstructure

__all__ = ["load_policy", "parse_policy", "policy_document"]

Factor = Annotated[Decimal, Field(ge=1, le=5)]
Month = Annotated[int, Field(ge=1, le=12)]
_VAGUE = {"other", "others", "misc", "miscellaneous", "unknown", "其他", "其它"}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _SafetyDoc(_Strict):
    regular: Factor = Decimal("1.05")
    custom: Factor = Decimal("1.3")
    new_ladder: list[Factor] = Field(
        default_factory=lambda: [Decimal("1.8"), Decimal("1.3"), Decimal("1.05")], min_length=1
    )
    step_after: int = Field(default=3, ge=1)

    @field_validator("new_ladder")
    @classmethod
    def _steps_down(cls, ladder: list[Decimal]) -> list[Decimal]:
        if any(b > a for a, b in pairwise(ladder)):
            raise ValueError("the new-product ladder must never step up")
        return ladder


class _TimeoutsDoc(_Strict):
    base_hours: dict[str, Annotated[Decimal, Field(gt=0)]] = Field(
        default_factory=lambda: {"pending_review": Decimal(2), "kitting_locked": Decimal(4)}
    )
    peak_months: list[Month] = Field(default_factory=lambda: [10, 11, 12, 1])
    off_months: list[Month] = Field(default_factory=lambda: [2, 7, 8])
    peak_multiplier: Decimal = Field(default=Decimal("0.7"), gt=0, le=1)
    off_multiplier: Decimal = Field(default=Decimal("1.5"), ge=1, le=10)

    @model_validator(mode="after")
    def _disjoint(self) -> _TimeoutsDoc:
        both = sorted(set(self.peak_months) & set(self.off_months))
        if both:
            raise ValueError(f"months {both} are both peak and off season")
        return self


class _RiskDoc(_Strict):
    enabled: bool = True
    drawing_changes_max: int = Field(default=2, ge=0, le=1000)
    drawing_window_days: int = Field(default=90, ge=1, le=3660)
    imported_min: int = Field(default=3, ge=1, le=1000)
    rate_move_pct: Decimal = Field(default=Decimal(2), gt=0, le=100)
    rate_window_days: int = Field(default=30, ge=1, le=3660)
    currencies: list[Annotated[str, Field(pattern=r"^[A-Z]{3}$")]] = Field(
        default_factory=lambda: ["USD", "EUR", "JPY"], min_length=1
    )
    spares_pct: int = Field(default=10, ge=0, le=100)
    bonded_warehouse: str = Field(default="深圳保税仓 (Shenzhen bonded warehouse)", min_length=1)

    def build(self) -> RiskThresholds:
        return RiskThresholds(**{**dict(self), "currencies": tuple(self.currencies)})


class _CategoryDoc(_Strict):
    code: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label: str = Field(min_length=1)
    colour: str = Field(pattern=r"^#[0-9a-fA-F]{6}$")


class _PolicyDoc(_Strict):
    version: int = Field(default=1, ge=1)
    safety: _SafetyDoc = Field(default_factory=_SafetyDoc)
    po_overdue_days: int = Field(default=7, ge=0, le=365)
    timeouts: _TimeoutsDoc = Field(default_factory=_TimeoutsDoc)
    exception_categories: list[_CategoryDoc] | None = None
    query_latency_target_s: Decimal = Field(default=Decimal("0.3"), gt=0)
    status_update_tolerance_minutes: int = Field(default=15, ge=0)
    exception_closure_target_hours: Decimal = Field(default=Decimal(4), gt=0)
    timezone: str = "Asia/Shanghai"
    checkpoint_every_entries: int = Field(default=10_000, ge=1, le=10_000_000)
    checkpoint_every_seconds: int = Field(default=3_600, ge=1, le=31 * 24 * 3600)
    slip_max_failures: int = Field(default=5, ge=1, le=100)
    slip_caller_max_failures: int = Field(default=20, ge=1, le=10_000)
    slip_lock_minutes: int = Field(default=15, ge=1, le=7 * 24 * 60)
    clock_skew_seconds: int = Field(default=300, ge=0, le=24 * 3600)
    notify_stages: list[str] = Field(default_factory=lambda: ["production_dispatched", "delivered"])
    risk: _RiskDoc = Field(default_factory=_RiskDoc)

    @field_validator("exception_categories")
    @classmethod
    def _precise(cls, cats: list[_CategoryDoc] | None) -> list[_CategoryDoc] | None:
        if cats is None:
            return None
        codes = [c.code for c in cats]
        if len(set(codes)) != len(codes):
            raise ValueError("exception category codes must be unique")
        vague = [c.code for c in cats if c.code in _VAGUE or c.label.lower() in _VAGUE]
        if vague:
            raise ValueError(f"no vague catch-all category allowed: {vague}; name the real cause")
        if not cats:
            raise ValueError("at least one exception category is needed")
        return cats

    @field_validator("timezone")
    @classmethod
    def _zone(cls, name: str) -> str:
        return check_timezone(name)

    def build(self) -> Policy:
        t = self.timeouts
        defaults = Policy()
        cats = (
            tuple(ExceptionCategory(c.code, c.label, c.colour) for c in self.exception_categories)
            if self.exception_categories is not None
            else defaults.exception_categories
        )
        return Policy(
            version=self.version,
            safety=SafetyFactors(
                regular=self.safety.regular,
                custom=self.safety.custom,
                new_ladder=tuple(self.safety.new_ladder),
                step_after=self.safety.step_after,
            ),
            po_overdue_days=self.po_overdue_days,
            timeouts=StageTimeouts(
                base_hours=t.base_hours,
                peak_months=frozenset(t.peak_months),
                off_months=frozenset(t.off_months),
                peak_multiplier=t.peak_multiplier,
                off_multiplier=t.off_multiplier,
            ),
            exception_categories=cats,
            query_latency_target_s=self.query_latency_target_s,
            status_update_tolerance_minutes=self.status_update_tolerance_minutes,
            exception_closure_target_hours=self.exception_closure_target_hours,
            timezone=self.timezone,
            checkpoint_every_entries=self.checkpoint_every_entries,
            checkpoint_every_seconds=self.checkpoint_every_seconds,
            slip_max_failures=self.slip_max_failures,
            slip_caller_max_failures=self.slip_caller_max_failures,
            slip_lock_minutes=self.slip_lock_minutes,
            clock_skew_seconds=self.clock_skew_seconds,
            notify_stages=frozenset(self.notify_stages),
            risk=self.risk.build(),
        )


def _problems(exc: pydantic.ValidationError) -> list[str]:
    out = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"]) or "(document)"
        out.append(f"{where}: {err['msg']}")
    return out


def parse_policy(document: Mapping[str, Any]) -> Policy:
    """Validate a policy mapping and return the frozen :class:`Policy`.

    Missing keys take the seed defaults; unknown keys are refused (typos are caught).
    """
    try:
        return _PolicyDoc.model_validate(dict(document)).build()
    except pydantic.ValidationError as exc:
        raise PolicyError(_problems(exc)) from None


def load_policy(path: str | Path) -> Policy:
    """Read a policy from a ``.toml`` or ``.json`` file."""
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise PolicyError([f"{p}: cannot read policy file ({exc.strerror})"]) from None
    try:
        doc = tomllib.loads(raw.decode()) if p.suffix == ".toml" else json.loads(raw)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise PolicyError([f"{p}: not valid {p.suffix.lstrip('.') or 'JSON'}: {exc}"]) from None
    if not isinstance(doc, dict):
        raise PolicyError([f"{p}: the document must be a table/object"])
    return parse_policy(doc)


def policy_document(policy: Policy) -> dict[str, Any]:
    """The policy as a plain document (JSON-safe), readable by :func:`parse_policy`."""
    doc: dict[str, Any] = unstructure(policy)
    return doc
