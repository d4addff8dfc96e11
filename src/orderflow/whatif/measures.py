"""The figures a what-if compares, measured the same way on the recorded log and on each
replayed one.

* on-time rate, exception closure: :func:`~orderflow.metrics.compute_health` over the
  period, as the monthly report computes them;
* overdue warnings and escalations: the ``timeout_warning`` / ``timeout_escalation``
  entries written in the period;
* stock held, in value-days: for each order, its value (quantity x unit price) times the
  days it sat kitted (locked, not yet dispatched or cancelled) within the period, the
  money tied up in reserved material while it waits for the line;
* kitting refusals and the mean wait for stock: a refused kitting writes no entry, so on
  the record they are read from the stock-shortage exceptions opened on an order still
  waiting for kitting (the planner's answer to a refusal), and the wait runs from the
  first of those to the lock. A replay counts its own refusals as they happen.
"""

from __future__ import annotations

from decimal import Decimal

import attrs

from orderflow.audit import EntryType
from orderflow.clock import to_micros
from orderflow.metrics import Period, Ratio, compute_health
from orderflow.policy import Policy
from orderflow.service import OrderService
from orderflow.service.history import change_records
from orderflow.whatif.recording import created_lines, log_entries

__all__ = ["LogFigures", "Outcome", "log_figures", "months", "outcome"]

_HOUR = Decimal(3_600_000_000)
_DAY = Decimal(86_400_000_000)


def months(year: int, month: int, count: int, timezone: str) -> Period:
    """``count`` calendar months from ``year-month`` in ``timezone``, as one period."""
    first = Period.month(year, month, timezone)
    end_index = year * 12 + month - 1 + count - 1
    last = Period.month(end_index // 12, end_index % 12 + 1, timezone)
    label = first.label if count == 1 else f"{first.label} to {last.label}"
    return Period(first.start, last.end, timezone, label)


@attrs.frozen
class LogFigures:
    """What is read straight from a log for one period (see the module docstring)."""

    warnings: int
    escalations: int
    value_days: Decimal
    shortage_refusals: int
    waits_hours: tuple[Decimal, ...]


def log_figures(svc: OrderService, period: Period) -> LogFigures:
    """Stream ``svc``'s log once and take the period's :class:`LogFigures`."""
    start, end = to_micros(period.start), to_micros(period.end)
    warnings = escalations = refusals = 0
    value_days = Decimal(0)
    amounts: dict[str, Decimal] = {}
    kitted: dict[str, int] = {}  # order -> locked at (occurred)
    locked: set[str] = set()
    first_refusal: dict[str, int] = {}
    waits: list[Decimal] = []

    def held(order_id: str, until: int) -> Decimal:
        since = kitted.pop(order_id, None)
        if since is None:
            return Decimal(0)
        lo, hi = max(since, start), min(until, end)
        return (
            amounts.get(order_id, Decimal(0)) * Decimal(hi - lo) / _DAY if hi > lo else Decimal(0)
        )

    for _, entry in log_entries(svc):
        ctx = entry.context_map
        chain = entry.order_id
        if entry.type is EntryType.CREATED:
            amounts[chain] = sum((q * u for _, q, u in created_lines(entry)[1]), Decimal(0))
        elif entry.type is EntryType.EXCEPTION:
            in_period = start <= entry.at < end
            action = ctx.get("action")
            if action == "timeout_warning" and in_period:
                warnings += 1
            elif action == "timeout_escalation" and in_period:
                escalations += 1
            elif (
                action == "opened"
                and ctx.get("category") == "stock_shortage"
                and chain not in locked
            ):
                first_refusal.setdefault(chain, entry.at)
                refusals += in_period
        elif entry.type is EntryType.STATE_CHANGE:
            occurred = int(ctx.get("occurred") or entry.at)
            event = ctx.get("event")
            if event == "lock_kitting":
                locked.add(chain)
                kitted[chain] = occurred
                refused = first_refusal.pop(chain, None)
                if refused is not None and start <= occurred < end:
                    waits.append(Decimal(occurred - refused) / _HOUR)
            elif chain in kitted and entry.to_state != "kitting_locked":
                value_days += held(chain, occurred)
    for order_id in list(kitted):
        value_days += held(order_id, end)
    return LogFigures(warnings, escalations, value_days, refusals, tuple(waits))


@attrs.frozen
class Outcome:
    """One column of the comparison: a policy (or the record) and its figures."""

    label: str
    on_time: Ratio
    kitting_refusals: int
    mean_wait_hours: Decimal | None
    warnings: int
    escalations: int
    value_days: Decimal
    closure_within_target: Ratio
    closure_median_hours: Decimal | None
    notes: str = ""


def outcome(
    label: str,
    svc: OrderService,
    policy: Policy,
    period: Period,
    *,
    refusals: int | None = None,
    waits: tuple[Decimal, ...] | None = None,
    notes: str = "",
) -> Outcome:
    """Measure ``svc``'s log over ``period``; ``refusals`` and ``waits`` (from a replay)
    replace the figures read from stock-shortage exceptions."""
    figures = log_figures(svc, period)
    orders = list(svc.store.orders())
    snap = compute_health(
        orders=orders,
        records=change_records(svc.store),
        incidents=svc.incidents(),
        queries=(),
        verified_order_ids={o.id for o in orders},
        policy=policy,
        period=period,
    )
    waits = figures.waits_hours if waits is None else waits
    mean = (sum(waits, Decimal(0)) / len(waits)).quantize(Decimal("0.1")) if waits else None
    return Outcome(
        label=label,
        on_time=snap.on_time.deliveries,
        kitting_refusals=figures.shortage_refusals if refusals is None else refusals,
        mean_wait_hours=mean,
        warnings=figures.warnings,
        escalations=figures.escalations,
        value_days=figures.value_days.quantize(Decimal(1)),
        closure_within_target=snap.closure.within_target,
        closure_median_hours=snap.closure.median_hours,
        notes=notes,
    )
