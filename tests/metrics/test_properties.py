"""Properties every health metric keeps, over random small logs."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from orderflow.domain.incident import Incident
from orderflow.domain.order import Order
from orderflow.metrics import (
    HealthSnapshot,
    Period,
    QueryEvent,
    QueryKind,
    Ratio,
    compute_health,
    exception_closure,
    exception_heatmap,
    query_funnel,
    root_cause_distribution,
    self_service_share,
    status_accuracy,
    status_distribution,
    status_timeliness,
)
from orderflow.policy.model import Policy
from orderflow.workflow.definition import DEFAULT_DEFINITION
from orderflow.workflow.machine import ChangeRecord
from tests.metrics.helpers import order

BASE = dt.datetime(2025, 12, 20, tzinfo=dt.UTC)
JAN = Period.month(2026, 1, "Asia/Shanghai")
POLICY = Policy(status_update_tolerance_minutes=30)
STAGES = DEFAULT_DEFINITION.stages
CATS = [c.code for c in POLICY.exception_categories] + ["legacy_code"]
ORDER_IDS = [f"o{i}" for i in range(6)]

minutes = st.integers(min_value=0, max_value=60 * 24 * 50)  # 20 Dec .. 8 Feb


def _at(m: int) -> dt.datetime:
    return BASE + dt.timedelta(minutes=m)


@st.composite
def records(draw: st.DrawFn) -> list[ChangeRecord]:
    out = []
    for oid in ORDER_IDS:
        n = draw(st.integers(0, 6))
        times = sorted(draw(st.lists(minutes, min_size=n, max_size=n)))
        stage = "pending_review"
        for seq, m in enumerate(times, start=1):
            to = draw(st.sampled_from(STAGES))
            delay = draw(st.integers(-5, 600))
            known = draw(st.booleans())
            out.append(
                ChangeRecord(
                    oid,
                    seq,
                    "e",
                    stage,
                    to,
                    "u",
                    _at(m + delay),
                    None,
                    1,
                    (),
                    _at(m) if known else None,
                )
            )
            stage = to
    return out


@st.composite
def incidents(draw: st.DrawFn) -> list[Incident]:
    out = []
    for i in range(draw(st.integers(0, 25))):
        opened = _at(draw(minutes))
        closure = draw(st.none() | st.integers(0, 60 * 100))
        cat = draw(st.sampled_from(CATS))
        oid = draw(st.sampled_from(ORDER_IDS))
        if closure is None:
            out.append(Incident(f"i{i}", oid, cat, opened, "op"))
        else:
            out.append(
                Incident(
                    f"i{i}",
                    oid,
                    cat,
                    opened,
                    "op",
                    resolved_at=opened + dt.timedelta(minutes=closure),
                    root_cause=draw(st.sampled_from(["a", "b", "c"])),
                    resolved_by="x",
                )
            )
    return out


@st.composite
def queries(draw: st.DrawFn) -> list[QueryEvent]:
    out = []
    for _ in range(draw(st.integers(0, 40))):
        kind = draw(st.sampled_from(list(QueryKind)))
        shown = draw(st.none() | st.sampled_from(STAGES)) if kind is QueryKind.VIEWED else None
        out.append(
            QueryEvent(
                draw(st.sampled_from([*ORDER_IDS, "ghost"])), kind, _at(draw(minutes)), shown
            )
        )
    return out


@st.composite
def orders(draw: st.DrawFn) -> list[Order]:
    return [order(oid, _at(draw(st.integers(0, 60 * 24 * 55)))) for oid in ORDER_IDS]


def _ratios(snap: HealthSnapshot) -> list[Ratio]:
    return [
        snap.timeliness.updates,
        snap.closure.within_target,
        snap.self_service.queries,
        snap.on_time.deliveries,
        snap.traceability.orders,
        snap.accuracy.exact,
    ]


@given(orders(), records(), incidents(), queries(), st.sets(st.sampled_from(ORDER_IDS)))
def test_health_invariants(
    os_: list[Order],
    recs: list[ChangeRecord],
    incs: list[Incident],
    qs: list[QueryEvent],
    verified: set[str],
) -> None:
    snap = compute_health(
        orders=os_,
        records=recs,
        incidents=incs,
        queries=qs,
        verified_order_ids=verified,
        policy=POLICY,
        period=JAN,
    )
    for r in _ratios(snap):
        assert 0 <= r.numerator <= r.denominator
        if r.share is not None:
            assert Decimal(0) <= r.share <= Decimal(1)
    c = snap.closure
    for value in (c.median_hours, c.p90_hours, c.max_hours):
        assert value is None or value >= 0
    if c.median_hours is not None:
        assert c.p90_hours is not None and c.max_hours is not None
        assert c.median_hours <= c.max_hours and c.p90_hours <= c.max_hours
    assert all(ref.hours >= 0 for ref in (*c.slowest, *c.oldest_open))
    assert sum(b.count for b in c.histogram) == c.resolved
    in_period = [i for i in incs if JAN.contains(i.opened_at)]
    assert c.resolved + c.still_open == len(in_period)
    f = snap.funnel
    assert f.sent >= f.opened >= f.viewed >= f.no_call >= 0
    assert snap.heatmap.total == len(in_period)
    assert sum(map(sum, snap.heatmap.counts)) == len(in_period)
    a = snap.accuracy
    assert a.measured + a.unmeasured == a.views
    assert all(g.gap_hours > 0 for g in a.worst)
    assert a.mean_gap_hours is None or a.mean_gap_hours >= 0
    d = snap.distribution
    assert sum(x.count for x in d.stages) == d.total == snap.traceability.orders.denominator
    assert set(snap.traceability.unverified).isdisjoint(verified)


@given(orders(), records(), incidents(), queries())
def test_single_pass_equals_separate_calculators(
    os_: list[Order],
    recs: list[ChangeRecord],
    incs: list[Incident],
    qs: list[QueryEvent],
) -> None:
    snap = compute_health(
        orders=iter(os_),
        records=iter(recs),
        incidents=iter(incs),
        queries=iter(qs),
        verified_order_ids=set(),
        policy=POLICY,
        period=JAN,
    )
    assert snap.timeliness == status_timeliness(recs, policy=POLICY, period=JAN)
    assert snap.closure == exception_closure(incs, policy=POLICY, period=JAN)
    assert snap.root_causes == root_cause_distribution(incs, period=JAN)
    assert snap.heatmap == exception_heatmap(incs, policy=POLICY, period=JAN)
    assert snap.self_service == self_service_share(qs, period=JAN)
    assert snap.funnel == query_funnel(qs, period=JAN)
    assert snap.distribution == status_distribution(os_, recs, period=JAN)
    assert snap.accuracy == status_accuracy(qs, recs, period=JAN, orders=os_)
