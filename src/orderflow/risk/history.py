"""A simulated order history whose lateness has causes the features can see (R13 model).

:func:`simulate_history` writes submission-level records, one per order, in
submission order, for training and evaluating the delivery-risk model; it is much
faster than :func:`orderflow.simulate.simulate_year` (which drives the whole service)
so that 200,000 orders take seconds. Each order's outcome is drawn from causes, some
visible at submission and some not:

* a short lead time asked, a high capacity load (open orders), a kitting rate below
  1 and new or custom products lengthen production;
* customers differ in how often they change drawings; a change during production
  delays the order, and the customer's changes of the last 90 days are visible;
* imported materials are held up more often when the exchange rate moved (a random
  walk of USD/CNY, the rule's 30-day move is visible);
* deliveries into typhoon-prone zones in typhoon season (July to October) are
  delayed, rarely when the carrier has a backup route;
* a share of delays has no visible cause at all.

A record's features are computed before its outcome is drawn, and the customer's late
share counts only orders delivered before the submission: nothing leaks the outcome.
The same ``seed`` and arguments give the same history.
"""

from __future__ import annotations

import bisect
import datetime as dt
import heapq
import math
import random
from collections import deque

from orderflow.exceptions import InputError
from orderflow.risk.features import SubmissionRecord

__all__ = ["simulate_history"]

_FACTORIES = ("NB1", "NB2")
_TYPHOON_MONTHS = frozenset({7, 8, 9, 10})


def _rate_walk(rng: random.Random, days: int) -> list[float]:
    """A daily USD/CNY walk: calm spells and volatile ones (percent moves of a few %)."""
    rate, out = 7.1, []
    vol = 0.002
    for _ in range(days):
        if rng.random() < 0.02:  # regime change
            vol = rng.choice((0.001, 0.002, 0.006))
        rate *= math.exp(rng.gauss(0, vol))
        out.append(rate)
    return out


def simulate_history(
    orders: int = 200_000,
    *,
    seed: int = 13,
    start: dt.date = dt.date(2025, 1, 1),
    per_day: int = 400,
    customers: int = 300,
    products: int = 40,
) -> list[SubmissionRecord]:
    """``orders`` records with outcomes, about ``per_day`` submitted a day from ``start``."""
    if not 1 <= orders <= 5_000_000:
        raise InputError(f"orders must be 1..5,000,000, got {orders}")
    if per_day < 1 or customers < 1 or products < 1:
        raise InputError("per_day, customers and products must be at least 1")
    rng = random.Random(seed)
    span = orders // per_day + 200
    rates = _rate_walk(rng, span + 60)
    # customers: drawing-change propensity (changes a month), zone, order weight
    propensity = [rng.choice((0.05, 0.1, 0.2, 0.2, 0.4, 1.5, 3.0)) for _ in range(customers)]
    in_zone = [rng.random() < 0.25 for _ in range(customers)]
    weight = [rng.paretovariate(1.5) for _ in range(customers)]
    changes: list[list[int]] = []
    for rate in propensity:  # change days over the whole span (a Poisson process)
        days, day = [], 0
        while True:
            day += max(1, int(rng.expovariate(rate / 30)))
            if day > span + 120:
                break
            days.append(day)
        changes.append(days)
    kinds = [rng.choice((0, 0, 0, 0, 0, 0, 1, 1, 2)) for _ in range(products)]
    sizes = [rng.randint(3, 6) for _ in range(products)]
    imported = [sum(rng.random() < 0.25 for _ in range(n)) for n in sizes]
    slower = {"NB1": 1.0, "NB2": 1.15}  # NB2's older line
    open_until: dict[str, list[int]] = {f: [] for f in _FACTORIES}  # heap of finish days
    arrivals: dict[str, deque[int]] = {f: deque() for f in _FACTORIES}
    pending: list[deque[tuple[int, bool]]] = [deque() for _ in range(customers)]
    finished = [[0, 0] for _ in range(customers)]  # delivered, late
    placed = [0] * customers
    out: list[SubmissionRecord] = []
    cum = []
    total = 0.0
    for w in weight:
        total += w
        cum.append(total)
    for n in range(orders):
        day = n // per_day
        submitted = start + dt.timedelta(days=day)
        c = min(bisect.bisect_left(cum, rng.random() * total), customers - 1)
        factory = _FACTORIES[0] if rng.random() < 0.6 else _FACTORIES[1]
        chosen = rng.sample(range(products), rng.choice((1, 1, 2, 3)))
        kind = max(kinds[p] for p in chosen)
        n_imported = sum(imported[p] for p in chosen)
        n_parts = sum(sizes[p] for p in chosen)
        rush = rng.random() < 0.1
        lead = rng.randint(2, 6) if rush else rng.randint(7, 40)
        kitting = 1.0 if rng.random() > 0.08 else rng.choice((0.67, 0.75, 0.8, 0.9))
        heap = open_until[factory]
        while heap and heap[0] <= day:
            heapq.heappop(heap)
        seen = arrivals[factory]
        while seen and seen[0] < day - 7:
            seen.popleft()
        wip = len(heap) / max(1.0, len(seen) / 7) if seen else 0.0
        queue = pending[c]
        while queue and queue[0][0] < day:  # delivered before this submission
            _, was_late = queue.popleft()
            finished[c][0] += 1
            finished[c][1] += was_late
        delivered, late_count = finished[c]
        past = changes[c]
        in_window = bisect.bisect_right(past, day) - bisect.bisect_left(past, day - 90)
        move = abs(rates[day + 60] / rates[day + 30] - 1) * 100
        carrier_backup = rng.random() < 0.6
        month = submitted.month
        late_share = late_count / delivered if delivered else float("nan")
        qty = float(rng.randrange(10, 400))
        # --- the outcome, from the causes (drawn after the features are fixed) ---------
        load = max(0.0, wip - 13.0) / 6.0
        produce = (3.0, 5.0, 8.0)[kind] * slower[factory] * (1 + load)
        produce += rng.gammavariate(2.0, 1.2)
        if rush:
            produce *= 0.4  # expedited
        produce += (1 - kitting) * 25
        during = bisect.bisect_right(past, day + int(produce)) - bisect.bisect_right(past, day)
        delay = sum(rng.uniform(2, 7) for _ in range(during))
        if n_imported and rng.random() < 0.03 * n_imported * (3.0 if move > 2 else 0.6):
            delay += rng.uniform(4, 14)
        typhoon = in_zone[c] and month in _TYPHOON_MONTHS
        if typhoon and rng.random() < (0.06 if carrier_backup else 0.35):
            delay += rng.uniform(3, 10)
        if rng.random() < 0.05:  # causes nobody records
            delay += rng.uniform(3, 12)
        total_days = produce + delay + rng.uniform(0.5, 3)
        late = total_days > lead
        finish = day + math.ceil(total_days)
        heapq.heappush(heap, finish)
        seen.append(day)
        queue.append((finish, late))
        placed[c] += 1
        out.append(
            SubmissionRecord(
                f"S{n:07d}", submitted, factory, f"C{c:04d}", lead, kitting, round(wip, 3),
                placed[c] - 1, late_share, in_window, n_imported, n_imported / n_parts,
                round(move, 4), in_zone[c], carrier_backup, kind, len(chosen), qty, late,
            )
        )  # fmt: skip
    return out
