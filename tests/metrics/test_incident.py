"""The exception closed loop: open in a policy category, resolve once, never backwards."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from orderflow.domain.incident import Incident, open_incident, resolve_incident
from orderflow.exceptions import InputError, PolicyError
from orderflow.policy.model import Policy
from orderflow.serialization import from_json, to_json
from tests.metrics.helpers import sh


def _open(**kw: object) -> Incident:
    args: dict[str, object] = {
        "order_id": "o1",
        "category": "stock_shortage",
        "opened_at": sh(5, 9),
        "operator": "wang",
        "device": "press-3",
        "batch": "20260105-A1",
        "incident_id": "i1",
    }
    args.update(kw)
    return open_incident(Policy(), **args)  # type: ignore[arg-type]


def test_open_incident_validates_category_against_policy() -> None:
    inc = _open()
    assert inc.is_open
    assert inc.closure_time is None
    assert inc.closure_hours is None
    with pytest.raises(PolicyError, match=r"unknown exception category 'other'.*stock_shortage"):
        _open(category="other")


def test_open_incident_rejects_naive_time_and_blank_operator() -> None:
    with pytest.raises(InputError, match="timezone-aware"):
        _open(opened_at=dt.datetime(2026, 1, 5, 9))
    with pytest.raises(InputError, match="operator must not be blank"):
        _open(operator=" ")


def test_open_incident_generates_an_id() -> None:
    a = _open(incident_id=None)
    b = _open(incident_id=None)
    assert a.id != b.id
    assert len(a.id) == 32


def test_resolve_incident_sets_closure_time() -> None:
    inc = _open()
    done = resolve_incident(inc, "  seal ring Q23-7 short  ", "zhao", sh(5, 11, 30))
    # 09:00 -> 11:30 is 2.5 h
    assert done.closure_time == dt.timedelta(hours=2, minutes=30)
    assert done.closure_hours == Decimal("2.5")
    assert done.root_cause == "seal ring Q23-7 short"
    assert done.resolved_by == "zhao"
    assert not done.is_open
    assert inc.is_open  # the original is unchanged


def test_resolve_refuses_twice_before_opening_and_blank_cause() -> None:
    inc = _open()
    done = resolve_incident(inc, "cause", "zhao", sh(5, 10))
    with pytest.raises(InputError, match="already resolved"):
        resolve_incident(done, "cause", "zhao", sh(5, 12))
    with pytest.raises(InputError, match="before it was opened"):
        resolve_incident(inc, "cause", "zhao", sh(5, 8, 59))
    with pytest.raises(InputError, match="root cause is required"):
        resolve_incident(inc, " ", "zhao", sh(5, 10))
    with pytest.raises(InputError, match="timezone-aware"):
        resolve_incident(inc, "c", "zhao", dt.datetime(2026, 1, 5, 10))


def test_resolving_at_the_opening_instant_is_a_zero_closure() -> None:
    done = resolve_incident(_open(), "c", "zhao", sh(5, 9))
    assert done.closure_time == dt.timedelta(0)


def test_half_resolved_incident_is_rejected() -> None:
    with pytest.raises(InputError, match="must be set together"):
        Incident("i", "o", "logistics", sh(1), "wang", resolved_at=sh(2))
    with pytest.raises(InputError, match="before it was opened"):
        Incident(
            "i", "o", "logistics", sh(2), "wang", resolved_at=sh(1), root_cause="c", resolved_by="z"
        )


def test_incident_json_round_trip() -> None:
    done = resolve_incident(_open(note="急单 rush"), "缺料", "zhao", sh(5, 10))
    assert from_json(to_json(done), Incident) == done
    assert from_json(to_json(_open()), Incident) == _open()
