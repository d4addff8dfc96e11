"""The staff dashboard's numbers (R8): one month's health metrics over the user's factories.

The charts are the monthly report's own Jinja2 macros (status ring, exception heatmap in
the policy's category colours, query funnel, closure-time histogram), so the dashboard
and the report never disagree on how a figure is drawn. Computing the metrics reads every
order, so a result is reused for :attr:`~orderflow.web.WebConfig.dashboard_seconds` per
scope and month.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from typing import TYPE_CHECKING, Any

from orderflow.exceptions import UnreadableRow
from orderflow.geo import Actor
from orderflow.metrics import Period, compute_health
from orderflow.report import _charts, headline_rows
from orderflow.service.history import change_records
from orderflow.workflow.timeouts import due_warnings

if TYPE_CHECKING:
    from orderflow.web.app import WebState

__all__ = ["dashboard_context", "in_scope"]

OVERDUE_SHOWN = 50


def in_scope(actor: Actor, factory_id: str) -> bool:
    """Whether the actor may see the factory's orders (a group admin sees every one)."""
    return actor.group_admin or factory_id in actor.factory_ids


def _labels(state: WebState) -> dict[str, str]:
    table = state.service.workflow.definition.label_table()
    return {stage: str(label) for stage, label in table.items()}


_log = logging.getLogger(__name__)


def _skip(exc: UnreadableRow) -> None:
    # the dashboard's figures go on without a row changed outside orderflow; the log
    # names it for whoever runs 'orderflow audit verify --deep'
    _log.warning("dashboard skipped a row: %s", exc)


def _compute(state: WebState, actor: Actor, year: int, month: int) -> dict[str, Any]:
    service = state.service
    policy = service.policy
    stored = service.store.orders(on_unreadable=_skip)
    orders = [o for o in stored if in_scope(actor, o.factory_id)]
    ids = {o.id for o in orders}
    numbers = {o.id: o.number for o in orders}
    incidents = [i for i in service.incidents() if i.order_id in ids]
    snapshot = compute_health(
        orders=orders,
        records=change_records(service.store),
        incidents=incidents,
        queries=[q for q in service.query_events() if q.order_id in ids],
        verified_order_ids=ids,  # the log is verified by 'orderflow audit verify', not per view
        policy=policy,
        period=Period.month(year, month, policy.timezone),
    )
    now = service.clock.now()
    due = service.store.orders_due(now, on_unreadable=_skip)
    overdue = [w for w in due_warnings(due, now) if w.order_id in ids]
    return {
        "snapshot": snapshot,
        "headline": headline_rows(snapshot),
        # geometry for the report's own chart macros (templates/charts.svg)
        "ring": _charts.ring(snapshot.distribution, _labels(state)),
        "heatmap": _charts.heatmap(snapshot.heatmap, policy.exception_categories),
        "funnel": _charts.funnel(snapshot.funnel),
        "closure": _charts.histogram(snapshot.closure),
        "open_incidents": [(i, numbers[i.order_id]) for i in incidents if i.resolved_at is None],
        "overdue": overdue[:OVERDUE_SHOWN],
        "overdue_total": len(overdue),
        "computed_at": now,
    }


def dashboard_context(state: WebState, actor: Actor, month: str | None) -> dict[str, Any]:
    """The dashboard's template context for ``actor`` and ``month`` (``2026-11``; default
    the current month in the factory zone), cached per scope and month."""
    if month:
        year, mon = (int(part) for part in month.split("-"))
        dt.date(year, mon, 1)  # ValueError for a month that does not exist
    else:
        today = state.service.clock.now().astimezone(state.zone()).date()
        year, mon = today.year, today.month
    scope = "*" if actor.group_admin else ",".join(sorted(actor.factory_ids))
    key = ("dashboard", scope, year, mon)
    with state.cache_lock:
        hit = state.cache.get(key)
    if hit is not None and hit[0] > time.monotonic():
        return dict(hit[1])
    context = _compute(state, actor, year, mon)
    context["month"] = f"{year:04d}-{mon:02d}"
    with state.cache_lock:
        state.cache[key] = (time.monotonic() + state.config.dashboard_seconds, context)
    return dict(context)
