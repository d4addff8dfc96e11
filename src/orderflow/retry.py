"""Retry a unit of work that lost a race: :func:`retry_on_conflict`.

Several writers (threads, processes, plants sharing one PostgreSQL) may change the same
rows; the store then raises :class:`~orderflow.ConcurrencyConflict` for all but one of
them, and nothing of the loser's transaction is kept. The fix is always the same: run
the whole unit of work again, from its reads (never re-commit what was computed from a
stale read). This helper does that with a bounded number of attempts and jittered
exponential backoff, so writers that collided do not collide again in lock step.

Only conflicts are retried: every other error (a refused transition, bad input, a store
that is down) is raised at once. An operation that carries an idempotency key is safe to
retry even if the first attempt committed and only the answer was lost.
"""

from __future__ import annotations

import functools
import random
import time
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar, overload

from orderflow.exceptions import ConcurrencyConflict

__all__ = ["retry_on_conflict"]

P = ParamSpec("P")
T = TypeVar("T")


class _Retry:
    """The retry policy (attempts, backoff) applied to one callable."""

    def __init__(
        self,
        attempts: int,
        base_delay: float,
        max_delay: float,
        on_retry: Callable[[int, ConcurrencyConflict], None] | None,
        rng: random.Random | None,
        sleep: Callable[[float], None],
    ) -> None:
        if attempts < 1:
            raise ValueError("attempts must be at least 1")
        self.attempts = attempts
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.on_retry = on_retry
        self.rng = rng or random.Random()
        self.sleep = sleep

    def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        for attempt in range(1, self.attempts + 1):
            try:
                return fn(*args, **kwargs)
            except ConcurrencyConflict as conflict:
                if attempt == self.attempts:
                    raise
                if self.on_retry is not None:
                    self.on_retry(attempt, conflict)
                ceiling = min(self.max_delay, self.base_delay * 2 ** (attempt - 1))
                self.sleep(self.rng.uniform(0, ceiling))  # "full jitter"
        raise AssertionError("unreachable")  # pragma: no cover


@overload
def retry_on_conflict(fn: Callable[P, T], /) -> Callable[P, T]: ...


@overload
def retry_on_conflict(
    *,
    attempts: int = 8,
    base_delay: float = 0.005,
    max_delay: float = 0.5,
    on_retry: Callable[[int, ConcurrencyConflict], None] | None = None,
    rng: random.Random | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> Callable[[Callable[P, T]], Callable[P, T]]: ...


def retry_on_conflict(
    fn: Callable[P, T] | None = None,
    /,
    *,
    attempts: int = 8,
    base_delay: float = 0.005,
    max_delay: float = 0.5,
    on_retry: Callable[[int, ConcurrencyConflict], None] | None = None,
    rng: random.Random | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> Callable[P, T] | Callable[[Callable[P, T]], Callable[P, T]]:
    """Re-run ``fn`` when it raises :class:`~orderflow.ConcurrencyConflict`.

    Use it bare or with options, as a decorator or around a lambda::

        from orderflow import retry_on_conflict

        @retry_on_conflict
        def ship(service, order_id):
            return service.fire(order_id, "deliver", actor="logistics",
                                idempotency_key=f"deliver-{order_id}")

        @retry_on_conflict(attempts=4, on_retry=lambda n, exc: print("retry", n))
        def batch(service, scans):
            with service.store.transaction():   # the whole batch is the unit of work
                for scan in scans:
                    service.record_scan(**scan)

    At most ``attempts`` calls in all; before each retry it sleeps a random time
    between 0 and ``min(max_delay, base_delay * 2 ** (n - 1))`` seconds (full jitter)
    and calls ``on_retry(n, conflict)`` (to count or log). The last conflict is raised
    when every attempt lost. The unit of work must start its own transaction: a retry
    inside an open transaction would re-run only part of it.
    """
    policy = _Retry(attempts, base_delay, max_delay, on_retry, rng, sleep)

    def decorate(func: Callable[P, T]) -> Callable[P, T]:
        @functools.wraps(func)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
            return policy.run(func, *args, **kwargs)

        return wrapper

    if fn is not None:
        return decorate(fn)
    return decorate
