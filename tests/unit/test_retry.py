"""retry_on_conflict: bounded retries with jittered backoff, conflicts only."""

from __future__ import annotations

import random

import pytest

from orderflow import ConcurrencyConflict, InputError, retry_on_conflict


def test_retries_conflicts_until_success_with_bounded_jittered_sleeps() -> None:
    calls: list[int] = []
    sleeps: list[float] = []
    seen: list[int] = []

    @retry_on_conflict(
        attempts=5,
        base_delay=0.01,
        max_delay=0.03,
        rng=random.Random(1),
        sleep=sleeps.append,
        on_retry=lambda n, exc: seen.append(n),
    )
    def flaky(x: int) -> int:
        calls.append(x)
        if len(calls) < 4:
            raise ConcurrencyConflict("o1", 3)
        return x * 2

    assert flaky(21) == 42
    assert calls == [21] * 4 and seen == [1, 2, 3]
    ceilings = [0.01, 0.02, 0.03]  # doubled, capped at max_delay
    assert all(0 <= s <= c for s, c in zip(sleeps, ceilings, strict=True))


def test_gives_up_after_attempts_and_raises_the_last_conflict() -> None:
    calls = 0

    def always() -> None:
        nonlocal calls
        calls += 1
        raise ConcurrencyConflict("o1", calls)

    with pytest.raises(ConcurrencyConflict) as info:
        retry_on_conflict(attempts=3, sleep=lambda s: None)(always)()
    assert calls == 3 and info.value.expected_version == 3


def test_other_errors_are_not_retried_and_bare_use_works() -> None:
    calls = 0

    @retry_on_conflict
    def bad() -> None:
        nonlocal calls
        calls += 1
        raise InputError("no")

    with pytest.raises(InputError):
        bad()
    assert calls == 1
    assert bad.__name__ == "bad"
    with pytest.raises(ValueError, match="attempts"):
        retry_on_conflict(attempts=0)
