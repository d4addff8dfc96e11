"""Several policies replayed at once in child processes: the same comparison as one
after another, and every failure of a child comes back as an error naming its policy."""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import signal
import sys
import time
from collections.abc import Callable
from decimal import Decimal as D
from typing import Any

import attrs
import pytest

from orderflow.adapters.postgres import PostgresStore
from orderflow.clock import FrozenClock
from orderflow.exceptions import InputError, OrderflowError
from orderflow.policy import Policy
from orderflow.service import OrderService
from orderflow.simulate import PlantProfile, simulate_year
from orderflow.whatif import Comparison, Scenario, compare, jobs
from orderflow.whatif import replay as real_replay


@pytest.mark.parametrize("n", [2, 3, 5])
def test_any_number_of_jobs_gives_the_same_comparison(
    recorded: OrderService, scenarios: list[Scenario], comparison: Comparison, n: int
) -> None:
    # fewer, as many and more jobs than scenarios
    assert compare(recorded, 2026, 1, 12, scenarios, jobs=n) == comparison
    assert multiprocessing.active_children() == []


def failing_on(victim: Policy, fail: Callable[[], None]) -> Any:
    """A replay that runs ``fail`` first when it replays under ``victim``."""

    def replay(source: OrderService, plan: Any, policy: Any, **kw: Any) -> Any:
        if policy is victim:
            fail()
        return real_replay(source, plan, policy, **kw)

    return replay


def test_an_orderflow_error_in_a_child_comes_back_as_itself_naming_the_policy(
    recorded: OrderService, scenarios: list[Scenario], monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail() -> None:
        raise InputError("the created entry of O-1 has no order")

    monkeypatch.setattr(jobs, "replay", failing_on(scenarios[1].policy, fail))
    with pytest.raises(InputError, match="O-1 has no order") as caught:
        compare(recorded, 2026, 1, 12, scenarios, jobs=3)
    assert caught.value.__notes__ == ["in the replay under 'lenient'"]
    assert multiprocessing.active_children() == []  # the other two were stopped


@pytest.mark.parametrize(
    ("end", "message"),
    [
        # as the out-of-memory killer ends a process
        (lambda: os.kill(os.getpid(), signal.SIGKILL),
         r"under 'patient' .*killed by signal SIGKILL, as the kernel .*at once \(--jobs\)$"),
        # a child gone without a word (a C extension calling exit, say)
        (lambda: os._exit(3), r"under 'patient' .*\(exit code 3\): run it with --jobs 1"),
    ],
)  # fmt: skip
def test_a_child_that_ends_without_an_answer_is_an_error_naming_the_policy_and_how(
    recorded: OrderService,
    scenarios: list[Scenario],
    monkeypatch: pytest.MonkeyPatch,
    end: Callable[[], None],
    message: str,
) -> None:
    monkeypatch.setattr(jobs, "replay", failing_on(scenarios[2].policy, end))
    with pytest.raises(OrderflowError, match=message):
        compare(recorded, 2026, 1, 12, scenarios, jobs=2)
    assert multiprocessing.active_children() == []


def test_a_bug_in_a_child_comes_back_with_the_child_traceback(
    recorded: OrderService, scenarios: list[Scenario], monkeypatch: pytest.MonkeyPatch
) -> None:
    class Unpicklable(Exception):  # a local class: pickle cannot find it again
        pass

    def fail() -> None:
        raise Unpicklable("a bug")

    monkeypatch.setattr(jobs, "replay", failing_on(scenarios[0].policy, fail))
    with pytest.raises(OrderflowError, match="Unpicklable: a bug") as caught:
        compare(recorded, 2026, 1, 12, scenarios, jobs=2)
    assert "in fail" in caught.value.__notes__[0]  # where the child raised it


@pytest.mark.parametrize(
    ("n", "methods", "message"),
    [(0, ["fork", "spawn"], "at least 1"), (2, ["spawn"], "cannot start; use jobs=1")],
)
def test_jobs_that_cannot_run_are_refused_before_any_work(
    recorded: OrderService,
    scenarios: list[Scenario],
    monkeypatch: pytest.MonkeyPatch,
    n: int,
    methods: list[str],
    message: str,
) -> None:
    monkeypatch.setattr(multiprocessing, "get_all_start_methods", lambda: methods)

    def no_survey(_: object) -> None:
        raise AssertionError("surveyed before checking jobs")

    # the package's name "compare" is the function; the module is in sys.modules
    monkeypatch.setattr(sys.modules["orderflow.whatif.compare"], "survey", no_survey)
    with pytest.raises(InputError, match=message):
        compare(recorded, 2026, 1, 12, scenarios, jobs=n)


def test_no_more_than_jobs_children_replay_at_once(
    recorded: OrderService, scenarios: list[Scenario], monkeypatch: pytest.MonkeyPatch
) -> None:
    running = multiprocessing.Value("i", 0)  # shared memory, inherited by the fork
    most = multiprocessing.Value("i", 0)

    def replay(source: OrderService, plan: Any, policy: Any, **kw: Any) -> Any:
        with running.get_lock():
            running.value += 1
            most.value = max(most.value, running.value)
        time.sleep(0.3)  # long enough for the others to start, were they allowed to
        with running.get_lock():
            running.value -= 1
        return real_replay(source, plan, policy, **kw)

    monkeypatch.setattr(jobs, "replay", replay)
    compare(recorded, 2026, 1, 12, scenarios, jobs=2)
    assert most.value == 2


def test_jobs_replay_a_postgresql_store_as_one_after_another(
    pg_store_factory: Callable[..., PostgresStore],
) -> None:
    # the parent measures the record through its pool (threads, open connections) while
    # the forked children replay: they must neither use nor close the parent's pool
    svc = OrderService(pg_store_factory(),
                       clock=FrozenClock(dt.datetime(2025, 12, 31, tzinfo=dt.UTC)))  # fmt: skip
    simulate_year(svc, PlantProfile(orders=300, shortage_rate=0.3), seed=1)
    p = svc.policy
    lean = attrs.evolve(p, safety=attrs.evolve(p.safety, regular=D(1), custom=D(1)))
    scenarios = [Scenario("as recorded", p), Scenario("lean", lean)]
    one_by_one = compare(svc, 2026, 6, 1, scenarios)
    assert one_by_one.outcomes[1] == attrs.evolve(one_by_one.outcomes[0], label="as recorded")
    assert compare(svc, 2026, 6, 1, scenarios, jobs=2) == one_by_one
    assert svc.store.audit_size() > 0  # the pool still serves this process
