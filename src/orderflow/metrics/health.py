"""All health metrics of one period in one pass: :func:`compute_health` (R8, R9)."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Collection, Iterable

import attrs

from orderflow.domain.incident import Incident
from orderflow.domain.order import Order
from orderflow.metrics.calculators import StatusTimeliness, _TimelinessAcc
from orderflow.metrics.drilldown import DEFAULT_TOP
from orderflow.metrics.incidents import (
    ExceptionClosure,
    ExceptionHeatmap,
    RootCauseDistribution,
    _ClosureAcc,
    _HeatmapAcc,
    _RootCauseAcc,
)
from orderflow.metrics.orders import OnTimeDelivery, StatusDistribution, Traceability, _OrderAcc
from orderflow.metrics.queries import (
    QueryFunnel,
    SelfServiceShare,
    StatusAccuracy,
    _AccuracyAcc,
    _FunnelAcc,
    _SelfServiceAcc,
)
from orderflow.metrics.timeline import Timeline, timeline_from
from orderflow.metrics.values import Period, QueryEvent, QueryKind
from orderflow.policy.model import Policy
from orderflow.workflow.definition import DEFAULT_DEFINITION, WorkflowDefinition
from orderflow.workflow.machine import ChangeRecord

__all__ = ["HealthSnapshot", "compute_health"]


@attrs.frozen
class HealthSnapshot:
    """Every health metric of one period, with the counts behind each.

    ``policy_version`` is the version of the policy whose tolerance, targets and
    categories were applied; ``as_of`` the instant the picture was frozen at, if any.
    """

    period: Period
    policy_version: int
    as_of: dt.datetime | None
    timeliness: StatusTimeliness
    closure: ExceptionClosure
    self_service: SelfServiceShare
    on_time: OnTimeDelivery
    traceability: Traceability
    root_causes: RootCauseDistribution
    distribution: StatusDistribution
    funnel: QueryFunnel
    accuracy: StatusAccuracy
    heatmap: ExceptionHeatmap

    def order_ids(self) -> tuple[str, ...]:
        """Every order id the snapshot names (worst cases, open incidents ...), sorted."""
        ids: set[str] = set()
        ids.update(u.order_id for u in self.timeliness.worst)
        ids.update(r.order_id for r in self.closure.slowest)
        ids.update(r.order_id for r in self.closure.oldest_open)
        ids.update(d.order_id for d in self.on_time.late)
        ids.update(self.traceability.unverified)
        ids.update(g.order_id for g in self.accuracy.worst)
        return tuple(sorted(ids))


def compute_health(
    *,
    orders: Iterable[Order],
    records: Iterable[ChangeRecord],
    incidents: Iterable[Incident],
    queries: Iterable[QueryEvent],
    verified_order_ids: Collection[str],
    policy: Policy,
    period: Period,
    definition: WorkflowDefinition = DEFAULT_DEFINITION,
    as_of: dt.datetime | None = None,
    top: int = DEFAULT_TOP,
) -> HealthSnapshot:
    """Compute every health metric for ``period``, reading each input exactly once.

    Inputs (any iterables, e.g. database cursors; pass the whole history, not just the
    period: the calculators pick what they need):

    * ``orders``: the factory's :class:`~orderflow.domain.Order` s (filter by factory
      first: one report per factory). Only ``id``, ``number``, ``created_at``,
      ``requested_date`` and ``stage`` are read.
    * ``records``: every :class:`~orderflow.workflow.ChangeRecord` of those orders; the
      real timelines are built from ``occurred_at``.
    * ``incidents``: :class:`~orderflow.domain.incident.Incident` s (opened in the
      period count).
    * ``queries``: :class:`~orderflow.metrics.QueryEvent` s (those in the period count).
    * ``verified_order_ids``: ids whose audit chain is complete and verifies (a set).

    The *orders of the period* (for traceability and the status distribution) are those
    in flight during it: created before its end and not already in a terminal stage
    (delivered, cancelled) at its start. ``as_of`` freezes incident resolutions (see
    :func:`~orderflow.metrics.exception_closure`); ``top`` bounds each drill-down list.
    ``policy.timezone`` is not used for calendars: ``period.timezone`` is.
    """
    records = iter(records)
    first = next(records, None)
    if first is not None:
        records = itertools.chain((first,), records)
    start, end = period.utc_bounds(None if first is None else first.occurred_at or first.at)

    timeliness = _TimelinessAcc(period, policy.status_update_tolerance_minutes, top)
    grouped: dict[str, list[tuple[dt.datetime, int, str, str]]] = {}
    tol = timeliness.tol
    total = timely = 0
    late_top = timeliness.top
    sub = dt.datetime.__sub__
    for rec in records:
        occurred = rec.occurred_at or rec.at
        item = (occurred, rec.seq, rec.from_stage, rec.to_stage)
        bucket = grouped.get(rec.order_id)
        if bucket is None:
            grouped[rec.order_id] = [item]
        else:
            bucket.append(item)
        if start <= occurred < end:
            total += 1
            delay = sub(rec.at, occurred)
            if delay <= tol:
                timely += 1
            else:
                late_top.add(
                    (delay.days * 86_400 + delay.seconds) * 1_000_000 + delay.microseconds, rec
                )
    timeliness.total = total
    timeliness.timely = timely

    timelines: dict[str, Timeline] = {}
    order_acc = _OrderAcc(period, definition, verified_order_ids, top)
    order_acc.start, order_acc.end = start, end
    later: dict[str, dt.datetime] = {}  # orders created after the period (for views)
    for order in orders:
        if not order.created_at < end:
            later[order.id] = order.created_at
            continue
        items = grouped.pop(order.id, None)
        timeline = None if items is None else timeline_from(order.id, items, order.created_at)
        if timeline is not None:
            timelines[order.id] = timeline
        order_acc.add(order, timeline)

    closure = _ClosureAcc(period, policy.exception_closure_target_hours, as_of, top)
    causes = _RootCauseAcc(period, as_of)
    heatmap = _HeatmapAcc(period, policy)
    for inc in incidents:
        if start <= inc.opened_at < end:
            closure.add(inc)
            causes.add(inc)
            heatmap.add(inc)

    self_service = _SelfServiceAcc()
    funnel = _FunnelAcc()
    accuracy = _AccuracyAcc(top)
    viewed, called = QueryKind.VIEWED, QueryKind.CALLED
    for q in queries:
        if not start <= q.at < end:
            continue
        funnel.add(q)
        if q.kind is viewed:
            self_service.views += 1
            if q.shown_stage is not None:
                timeline = timelines.get(q.order_id)
                if timeline is None:
                    items = grouped.pop(q.order_id, None)  # records of an order not given
                    if items is not None:
                        timeline = timelines[q.order_id] = timeline_from(
                            q.order_id, items, later.get(q.order_id)
                        )
                accuracy.add(q, timeline)
        elif q.kind is called:
            self_service.calls += 1

    return HealthSnapshot(
        period=period,
        policy_version=policy.version,
        as_of=as_of,
        timeliness=timeliness.result(),
        closure=closure.result(),
        self_service=self_service.result(),
        on_time=order_acc.delivery(),
        traceability=order_acc.traceability(),
        root_causes=causes.result(),
        distribution=order_acc.distribution(),
        funnel=funnel.result(),
        accuracy=accuracy.result(),
        heatmap=heatmap.result(),
    )
