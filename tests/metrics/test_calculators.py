"""Hand-computed cases for every calculator (answers worked out in the comments)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pendulum
import pytest

from orderflow.domain.incident import Incident
from orderflow.domain.order import Order
from orderflow.exceptions import InputError
from orderflow.metrics import (
    Count,
    HistogramBin,
    Period,
    QueryEvent,
    QueryKind,
    Ratio,
    compute_health,
    exception_closure,
    exception_heatmap,
    on_time_delivery,
    period_weeks,
    query_funnel,
    root_cause_distribution,
    self_service_share,
    status_accuracy,
    status_distribution,
    status_timeliness,
    traceability,
)
from orderflow.policy.model import Policy
from orderflow.workflow.machine import ChangeRecord
from tests.metrics.helpers import order, rec, sh

JAN = Period.month(2026, 1, "Asia/Shanghai")
POLICY = Policy()  # tolerance 15 min, closure target 4 h


# ------------------------------------------------------------------ values


def test_ratio_keeps_counts_and_rounds_share() -> None:
    r = Ratio(2, 3)
    assert r.share == Decimal("0.666667")
    assert r.meets(Decimal("0.6666")) is True
    assert r.meets(Decimal("0.67")) is False
    assert Ratio(0, 0).share is None
    assert Ratio(0, 0).meets(Decimal(1)) is None
    assert Ratio(0, 0).percent() == "n/a"
    assert Ratio(992, 1000).percent() == "99.2 %"
    with pytest.raises(InputError, match="numerator <= denominator"):
        Ratio(4, 3)
    with pytest.raises(InputError, match="does not match"):
        Ratio(1, 2, Decimal("0.4"))


def test_month_boundaries_are_local_midnights() -> None:
    # Shanghai is UTC+8 without DST: January starts 2025-12-31 16:00 UTC.
    assert JAN.start == dt.datetime(2025, 12, 31, 16, tzinfo=dt.UTC)
    assert JAN.end == dt.datetime(2026, 1, 31, 16, tzinfo=dt.UTC)
    assert JAN.label == "2026-01"
    # Berlin's March 2026 loses an hour to DST (29 March): 31 days minus 1 h.
    march = Period.month(2026, 3, "Europe/Berlin")
    assert march.end - march.start == dt.timedelta(days=31, hours=-1)
    assert march.contains(pendulum.datetime(2026, 3, 31, 23, 59, tz="Europe/Berlin"))
    assert not march.contains(pendulum.datetime(2026, 4, 1, tz="Europe/Berlin"))
    with pytest.raises(InputError, match="month must be 1-12"):
        Period.month(2026, 13)
    with pytest.raises(InputError, match="unknown time zone"):
        Period.month(2026, 1, "Mars/Olympus")


def test_query_event_checks_kind_and_shown_stage() -> None:
    assert QueryEvent("o", "viewed", sh(3), "kitting_locked").kind is QueryKind.VIEWED
    with pytest.raises(InputError, match="unknown query event kind 'emailed'"):
        QueryEvent("o", "emailed", sh(3))
    with pytest.raises(InputError, match="only applies to 'viewed'"):
        QueryEvent("o", QueryKind.CALLED, sh(3), "kitting_locked")


# ------------------------------------------------------------------ timeliness


def test_status_timeliness_hand_computed() -> None:
    records = [
        rec("a", 1, "pending_review", "kitting_locked", sh(3, 9), 0),  # timely
        rec("a", 2, "kitting_locked", "production_dispatched", sh(3, 12), 15),  # timely: = 15
        rec("b", 1, "pending_review", "kitting_locked", sh(4, 9), 16),  # late by 1 min
        rec("c", 1, "pending_review", "kitting_locked", sh(5, 9), 60),  # late
        rec("d", 1, "pending_review", "kitting_locked", sh(6, 9), 500, occurred_at_known=False),
        # ^ no occurred_at: the recording time stands for it, gap 0, timely
        rec("e", 1, "pending_review", "kitting_locked", sh(31, 23, 59, month=12, year=2025), 90),
        # ^ happened 2025-12-31 23:59 Shanghai: December, not counted though recorded in January
    ]
    result = status_timeliness(records, policy=POLICY, period=JAN)
    # 5 in January, 3 timely -> 3/5
    assert result.updates == Ratio(3, 5)
    assert result.updates.share == Decimal("0.6")
    assert result.meets_target is False
    assert result.tolerance_minutes == 15
    assert [(u.order_id, u.delay_minutes) for u in result.worst] == [
        ("c", Decimal("60.000")),
        ("b", Decimal("16.000")),
    ]
    assert status_timeliness(records[:2], policy=POLICY, period=JAN).meets_target is True
    assert status_timeliness([], policy=POLICY, period=JAN).meets_target is None


# ------------------------------------------------------------------ incidents


def _inc(
    iid: str,
    opened: dt.datetime,
    hours: float | None,
    cause: str = "c",
    category: str = "logistics",
    device: str = "",
    batch: str = "",
) -> Incident:
    if hours is None:
        return Incident(iid, f"o-{iid}", category, opened, "wang", device=device, batch=batch)
    return Incident(
        iid,
        f"o-{iid}",
        category,
        opened,
        "wang",
        device=device,
        batch=batch,
        resolved_at=opened + dt.timedelta(hours=hours),
        root_cause=cause,
        resolved_by="zhao",
    )


def test_exception_closure_hand_computed() -> None:
    incidents = [
        _inc("1", sh(2, 9), 1),
        _inc("2", sh(3, 9), 2),
        _inc("3", sh(4, 9), 4),  # exactly on target: within
        _inc("4", sh(5, 9), 5),
        _inc("5", sh(6, 9), 10),
        _inc("6", sh(31, 10), None),  # open; 14 h old at period end -> overdue
        _inc("7", sh(31, 22), None),  # open; 2 h old -> not overdue
        _inc("8", sh(1, 9, month=2), 100),  # February: ignored
    ]
    c = exception_closure(incidents, policy=POLICY, period=JAN)
    # resolved closures sorted: 1, 2, 4, 5, 10 h
    assert c.resolved == 5
    assert c.still_open == 2
    assert c.open_overdue == 1
    assert c.within_target == Ratio(3, 5)  # 1, 2, 4 are <= 4 h
    assert c.median_hours == Decimal("4.000")  # 3rd of 5
    assert c.p90_hours == Decimal("10.000")  # nearest rank: ceil(0.9 * 5) = 5th
    assert c.max_hours == Decimal("10.000")
    assert c.meets_target is True  # median 4 <= 4
    # bins for a 4 h target: [0,1] (1,2] (2,3] (3,4] (4,6] (6,8] (8,12] (12,24] (24,48] 48+
    assert [b.count for b in c.histogram] == [1, 1, 0, 1, 1, 0, 1, 0, 0, 0]
    assert c.histogram[0] == HistogramBin(Decimal(0), Decimal("1.00"), 1)
    assert c.histogram[-1].upper_hours is None
    assert [r.incident_id for r in c.slowest[:2]] == ["5", "4"]
    assert [(r.incident_id, r.hours, r.open) for r in c.oldest_open] == [
        ("6", Decimal("14.000"), True),
        ("7", Decimal("2.000"), True),
    ]


def test_exception_closure_even_count_median_and_as_of() -> None:
    incidents = [_inc("1", sh(2, 9), 1), _inc("2", sh(3, 9), 3), _inc("3", sh(4, 9), 30)]
    # as_of 4 Jan 12:00: incident 3 (resolved 5 Jan 15:00) is still open, 3 h old
    c = exception_closure(incidents, policy=POLICY, period=JAN, as_of=sh(4, 12))
    assert c.resolved == 2
    assert c.median_hours == Decimal("2.000")  # mean of 1 and 3
    assert c.still_open == 1
    assert c.open_overdue == 0
    assert c.oldest_open[0].hours == Decimal("3.000")
    empty = exception_closure([], policy=POLICY, period=JAN)
    assert empty.median_hours is None
    assert empty.meets_target is None
    assert empty.within_target == Ratio(0, 0)


def test_root_cause_distribution_hand_computed() -> None:
    incidents = [
        _inc("1", sh(2, 9), 1, cause="seal ring short", device="press-3", batch="B1"),
        _inc("2", sh(3, 9), 2, cause="seal ring short", device="press-3"),
        _inc("3", sh(4, 9), 1, cause="drawing revised", batch="B2"),
        _inc("4", sh(5, 9), None),
        _inc("5", sh(2, 9, month=2), 1, cause="seal ring short"),  # February
    ]
    d = root_cause_distribution(incidents, period=JAN)
    assert d.resolved == 3
    assert d.unresolved == 1
    assert d.root_causes == (Count("seal ring short", 2), Count("drawing revised", 1))
    assert d.devices == (Count("press-3", 2),)
    assert d.batches == (Count("B1", 1), Count("B2", 1))
    assert d.operators == (Count("wang", 3),)


def test_heatmap_uses_local_iso_weeks() -> None:
    # January 2026 (Shanghai) touches ISO weeks 1 (Thu 1 Jan) to 5 (Sat 31 Jan).
    assert period_weeks(JAN) == ("2026-W01", "2026-W02", "2026-W03", "2026-W04", "2026-W05")
    incidents = [
        _inc("1", sh(4, 23, 0), 1, category="stock_shortage"),  # Sun 4 Jan: W01
        _inc("2", sh(5, 0, 30), 1, category="stock_shortage"),  # Mon 5 Jan 00:30 local: W02
        # (that is Sun 4 Jan 16:30 UTC: a UTC calendar would say W01)
        _inc("3", sh(5, 9), None, category="stock_shortage"),
        _inc("4", sh(20, 9), 1, category="logistics"),  # W04
        _inc("5", sh(21, 9), 1, category="legacy_code"),  # not in the policy: extra row
        _inc("6", sh(1, 9, month=2), 1, category="logistics"),  # February
    ]
    h = exception_heatmap(incidents, policy=POLICY, period=JAN)
    assert h.total == 5
    assert h.categories[: len(POLICY.exception_categories)] == tuple(
        c.code for c in POLICY.exception_categories
    )
    assert h.categories[-1] == "legacy_code"
    assert h.cell("stock_shortage", "2026-W01") == 1
    assert h.cell("stock_shortage", "2026-W02") == 2
    assert h.cell("logistics", "2026-W04") == 1
    assert h.cell("legacy_code", "2026-W04") == 1
    assert h.cell("logistics", "2026-W09") == 0
    assert h.max_count == 2
    assert sum(map(sum, h.counts)) == 5


# ------------------------------------------------------------------ queries


def test_self_service_share_hand_computed() -> None:
    queries = [
        QueryEvent("a", "viewed", sh(3), "kitting_locked"),
        QueryEvent("b", "viewed", sh(4)),
        QueryEvent("c", "viewed", sh(5), "delivered"),
        QueryEvent("a", "called", sh(6)),
        QueryEvent("a", "sent", sh(2)),  # not an enquiry
        QueryEvent("d", "viewed", sh(1, month=2)),  # February
    ]
    s = self_service_share(queries, period=JAN)
    assert s.queries == Ratio(3, 4)  # 3 views / (3 views + 1 call)
    assert s.meets_target is False  # 75 % < 92 %


def test_query_funnel_hand_computed() -> None:
    q = QueryEvent
    queries = [
        q("o1", "sent", sh(2, 8)),
        q("o1", "opened", sh(2, 9)),
        q("o1", "viewed", sh(2, 9)),
        q("o2", "sent", sh(2, 8)),
        q("o2", "opened", sh(2, 9)),
        q("o2", "viewed", sh(2, 9)),
        q("o2", "called", sh(2, 10)),  # called after viewing: not in the last step
        q("o3", "sent", sh(2, 8)),
        q("o3", "opened", sh(2, 9)),
        q("o4", "sent", sh(2, 8)),
        q("o5", "viewed", sh(2, 9)),  # never sent in January: outside the funnel
        q("o6", "sent", sh(2, 8)),
        q("o6", "viewed", sh(2, 9)),  # viewed without "opened"
        q("o7", "sent", sh(2, 8)),
        q("o7", "opened", sh(2, 9)),
        q("o7", "called", sh(2, 8, 30)),
        q("o7", "viewed", sh(2, 9)),
        q("o7", "viewed", sh(2, 11)),  # call came before the view
        q("o8", "sent", sh(1, 8, month=2)),  # February
    ]
    f = query_funnel(queries, period=JAN)
    # sent {1,2,3,4,6,7}; opened {1,2,3,7}; viewed {1,2,7}; no call after viewing {1,7}
    assert f.steps == (("sent", 6), ("opened", 4), ("viewed", 3), ("no_call", 2))


def test_status_accuracy_hand_computed() -> None:
    records = [
        # order A: pending from 2 Jan 00:00; kitting 2 Jan 10:00; production 3 Jan 10:00
        # (recorded 4 h late: the real timeline uses when it happened); QC 5 Jan 10:00
        rec("A", 1, "pending_review", "kitting_locked", sh(2, 10)),
        rec("A", 2, "kitting_locked", "production_dispatched", sh(3, 10), 240),
        rec("A", 3, "production_dispatched", "qc_released", sh(5, 10)),
        # order B: production 10 Jan 00:00, QC 11 Jan 00:00, QC failed 11 Jan 06:00 (rework)
        rec("B", 1, "pending_review", "kitting_locked", sh(9, 0)),
        rec("B", 2, "kitting_locked", "production_dispatched", sh(10, 0)),
        rec("B", 3, "production_dispatched", "qc_released", sh(11, 0)),
        rec("B", 4, "qc_released", "production_dispatched", sh(11, 6), event="fail_qc"),
    ]
    orders = [order("A", sh(2, 0)), order("B", sh(8, 0))]
    v = QueryEvent
    queries = [
        v("A", "viewed", sh(2, 12), "kitting_locked"),  # real kitting: gap 0
        v("A", "viewed", sh(3, 16), "kitting_locked"),  # stale: left kitting 3 Jan 10:00 -> 6 h
        v("A", "viewed", sh(3, 8), "production_dispatched"),  # premature: reached 2 h later
        v("B", "viewed", sh(11, 9), "qc_released"),  # stale after rework: left QC 06:00 -> 3 h
        v("A", "viewed", sh(4), "delivered"),  # never delivered: unmeasured
        v("Z", "viewed", sh(4), "kitting_locked"),  # unknown order: unmeasured
        v("A", "viewed", sh(1, 12), "pending_review"),  # before A existed: unmeasured
        v("A", "opened", sh(4)),  # not a view
        v("A", "viewed", sh(3, 16, month=2), "kitting_locked"),  # February
    ]
    a = status_accuracy(queries, records, period=JAN, orders=orders)
    # measured gaps 0, 6, 2, 3 h: mean 11/4 = 2.75 h; p90 = ceil(3.6) = 4th smallest = 6 h
    assert a.views == 7
    assert a.measured == 4
    assert a.unmeasured == 3
    assert a.exact == Ratio(1, 4)
    assert a.mean_gap_hours == Decimal("2.750")
    assert a.p90_gap_hours == Decimal("6.000")
    assert a.max_gap_hours == Decimal("6.000")
    assert [(g.order_id, g.real_stage, g.gap_hours) for g in a.worst] == [
        ("A", "production_dispatched", Decimal("6.000")),
        ("B", "production_dispatched", Decimal("3.000")),
        ("A", "kitting_locked", Decimal("2.000")),
    ]


# ------------------------------------------------------------------ orders


def test_on_time_delivery_compares_local_dates() -> None:
    orders = [
        order("on", sh(2), requested=dt.date(2026, 1, 10)),
        order("late", sh(2), requested=dt.date(2026, 1, 10)),
        order("dec", sh(1, month=12, year=2025), requested=dt.date(2026, 1, 10)),
        order("feb", sh(2), requested=dt.date(2026, 1, 10)),
        order("open", sh(2), requested=dt.date(2026, 1, 10)),
    ]

    def delivered(oid: str, when: dt.datetime) -> list[ChangeRecord]:
        return [
            rec(oid, 1, "pending_review", "kitting_locked", when - dt.timedelta(days=3)),
            rec(oid, 2, "kitting_locked", "production_dispatched", when - dt.timedelta(days=2)),
            rec(oid, 3, "production_dispatched", "qc_released", when - dt.timedelta(days=1)),
            rec(oid, 4, "qc_released", "delivered", when),
        ]

    records = [
        *delivered("on", sh(10, 23, 30)),  # 10 Jan 23:30 local: on the requested date
        *delivered("late", sh(11, 0, 30)),  # 11 Jan 00:30 local (still 10 Jan in UTC): 1 day late
        *delivered("dec", sh(31, 23, month=12, year=2025)),  # December delivery
        *delivered("feb", sh(1, 0, 30, month=2)),  # February delivery
        rec("open", 1, "pending_review", "kitting_locked", sh(3)),
    ]
    r = on_time_delivery(orders, records, period=JAN)
    assert r.deliveries == Ratio(1, 2)
    assert [(d.order_id, d.delivered_on, d.days_late) for d in r.late] == [
        ("late", dt.date(2026, 1, 11), 1)
    ]


def _scope_case() -> tuple[list[Order], list[ChangeRecord]]:
    orders = [
        order("a", sh(1, month=12, year=2025)),  # delivered in December: not in flight
        order("b", sh(1, month=12, year=2025)),  # delivered 5 Jan: in flight
        order("c", sh(3)),  # kitting from 4 Jan
        order("d", sh(20)),  # no records: pending review
        order("e", sh(2, month=2)),  # created in February: out
        order("f", sh(10, month=12, year=2025)),  # cancelled 2 Jan
        order("g", sh(5, month=12, year=2025)),  # in production; QC only in February
    ]
    records = [
        rec("a", 1, "pending_review", "kitting_locked", sh(2, month=12, year=2025)),
        rec("a", 2, "kitting_locked", "production_dispatched", sh(3, month=12, year=2025)),
        rec("a", 3, "production_dispatched", "qc_released", sh(4, month=12, year=2025)),
        rec("a", 4, "qc_released", "delivered", sh(20, month=12, year=2025)),
        rec("b", 1, "pending_review", "kitting_locked", sh(2, month=12, year=2025)),
        rec("b", 2, "kitting_locked", "production_dispatched", sh(3, month=12, year=2025)),
        rec("b", 3, "production_dispatched", "qc_released", sh(4, month=12, year=2025)),
        rec("b", 4, "qc_released", "delivered", sh(5)),
        rec("c", 1, "pending_review", "kitting_locked", sh(4)),
        rec("f", 1, "pending_review", "cancelled", sh(2)),
        rec("g", 1, "pending_review", "kitting_locked", sh(5, month=12, year=2025)),
        rec("g", 2, "kitting_locked", "production_dispatched", sh(6, month=12, year=2025)),
        rec("g", 3, "production_dispatched", "qc_released", sh(3, month=2)),
    ]
    return orders, records


def test_status_distribution_counts_in_flight_orders_at_month_end() -> None:
    orders, records = _scope_case()
    d = status_distribution(orders, records, period=JAN)
    # in flight: b, c, d, f, g (a finished in December, e starts in February)
    assert d.total == 5
    assert {c.key: c.count for c in d.stages if c.count} == {
        "delivered": 1,
        "kitting_locked": 1,
        "pending_review": 1,
        "cancelled": 1,
        "production_dispatched": 1,
    }
    assert [c.key for c in d.stages][:5] == [
        "pending_review",
        "kitting_locked",
        "production_dispatched",
        "qc_released",
        "delivered",
    ]
    assert d.count("qc_released") == 0


def test_traceability_over_in_flight_orders() -> None:
    orders, records = _scope_case()
    t = traceability(orders, records, {"a", "b", "c"}, period=JAN)
    assert t.orders == Ratio(2, 5)  # b and c verified; a is not in January's scope
    assert t.unverified == ("d", "f", "g")


def test_compute_health_matches_the_single_calculators() -> None:
    orders, records = _scope_case()
    incidents = [_inc("1", sh(2, 9), 1), _inc("2", sh(3, 9), None)]
    queries = [QueryEvent("c", "viewed", sh(5), "pending_review"), QueryEvent("c", "called", sh(6))]
    snap = compute_health(
        orders=iter(orders),
        records=iter(records),
        incidents=iter(incidents),
        queries=iter(queries),
        verified_order_ids={"b"},
        policy=POLICY,
        period=JAN,
    )
    assert snap.distribution == status_distribution(orders, records, period=JAN)
    assert snap.traceability == traceability(orders, records, {"b"}, period=JAN)
    assert snap.timeliness == status_timeliness(records, policy=POLICY, period=JAN)
    assert snap.closure == exception_closure(incidents, policy=POLICY, period=JAN)
    assert snap.accuracy == status_accuracy(queries, records, period=JAN, orders=orders)
    assert snap.accuracy.mean_gap_hours == Decimal("24.000")  # left pending 4 Jan 00:00 -> 24 h
    assert snap.self_service.queries == Ratio(1, 2)
    assert snap.policy_version == POLICY.version
    assert "c" in snap.order_ids()


def test_pendulum_utc_inputs_give_the_same_answers() -> None:
    # Bounds adopt a UTC tzinfo of the data for speed; the figures must not change.
    import attrs

    orders, records = _scope_case()
    incidents = [_inc("1", sh(2, 9), 1)]

    def p(x: dt.datetime) -> dt.datetime:
        return pendulum.instance(x, tz=pendulum.UTC)

    p_orders = [attrs.evolve(o, created_at=p(o.created_at)) for o in orders]
    p_records = [
        attrs.evolve(r, at=p(r.at), occurred_at=None if r.occurred_at is None else p(r.occurred_at))
        for r in records
    ]
    args = {"incidents": incidents, "queries": [], "verified_order_ids": {"b"}}
    plain = compute_health(orders=orders, records=records, policy=POLICY, period=JAN, **args)  # type: ignore[arg-type]
    fast = compute_health(orders=p_orders, records=p_records, policy=POLICY, period=JAN, **args)  # type: ignore[arg-type]
    assert fast == plain
