"""Several policies replayed at once, one child process each, so a comparison uses the
machine's cores: every replay is one thread of Python from the log's first entry (each
decision depends on the stock every earlier one left), but the replays of one survey are
independent of one another.

Children are forked, not spawned: a forked child starts with the parent's survey (a
year's log is a few hundred MB, which spawning would have to pickle and send), replays
one policy, measures it, and sends back only its :class:`Replayed` (a few hundred
bytes). It needs the ``fork`` start method (Linux, macOS; not Windows).

Each child holds its own replayed store, as large as a replay run in the parent would
(about 1 GiB for a 147,000-order year), so ``jobs`` children need ``jobs`` times that.
"""

from __future__ import annotations

import functools
import multiprocessing
import pickle
import signal
import traceback
import warnings
from collections.abc import Callable, Iterator, Sequence
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess

import attrs

from orderflow.exceptions import InputError, OrderflowError
from orderflow.metrics import Period
from orderflow.policy import Policy
from orderflow.service import OrderService
from orderflow.whatif.measures import Outcome, outcome
from orderflow.whatif.recording import Survey
from orderflow.whatif.replay import replay

__all__ = ["Replayed", "check_jobs", "replay_all"]


@attrs.frozen
class Replayed:
    """One scenario's replay, measured: its column and the orders it replayed."""

    outcome: Outcome
    orders: int


def _replay_one(
    source: OrderService,
    plan: Survey,
    name: str,
    policy: Policy,
    period: Period,
    span: tuple[int, int],
    *,
    last: bool,
) -> Replayed:
    try:
        result = replay(source, plan, policy, start_us=span[0], end_us=span[1], last=last)
    except OrderflowError as exc:
        exc.add_note(f"in the replay under {name!r}")
        raise
    notes = []
    if result.rescheduled:
        notes.append(f"{result.rescheduled} dates rescheduled")
    if result.still_waiting:
        notes.append(f"{result.still_waiting} orders still waiting for stock")
    if result.cut_scans:
        notes.append(f"{result.cut_scans} goods-out cut to the free stock")
    column = outcome(
        name, result.service, policy, period,
        refusals=result.refusals, waits=result.waits_hours, notes="; ".join(notes),
    )  # fmt: skip
    return Replayed(column, result.orders)


def replay_all(
    source: OrderService,
    plan: Survey,
    scenarios: Sequence[tuple[str, Policy]],
    period: Period,
    span: tuple[int, int],
    *,
    jobs: int = 1,
    meanwhile: Callable[[], Outcome],
) -> tuple[Outcome, list[Replayed]]:
    """Replay ``plan`` under each ``(name, policy)`` for ``period`` (``span``: its
    start and end in UTC microseconds) and measure each; ``meanwhile`` (the record's
    own column) runs in this process while the children replay.

    ``jobs``: how many replays run at once; 1 replays them here, one after another,
    each releasing its store before the next (the last releases the survey's log as
    it reads it). The answers are the same whatever ``jobs`` is, in ``scenarios``'
    order."""
    check_jobs(jobs)
    if jobs == 1:
        first = meanwhile()
        last = len(scenarios)
        return first, [
            _replay_one(source, plan, name, policy, period, span, last=n == last)
            for n, (name, policy) in enumerate(scenarios, 1)
        ]
    children = _Children(min(jobs, len(scenarios)))
    for name, policy in scenarios:
        work = functools.partial(_replay_one, source, plan, name, policy, period, span, last=True)
        children.add(name, work)
    with children:
        children.start_some()
        first = meanwhile()
        return first, list(children.answers())


def check_jobs(jobs: int) -> None:
    """Raise :class:`~orderflow.InputError` unless ``jobs`` replays at once can run here."""
    if jobs < 1:
        raise InputError(f"jobs must be at least 1, not {jobs}")
    if jobs > 1 and "fork" not in multiprocessing.get_all_start_methods():
        raise InputError(
            f"jobs={jobs} replays in forked child processes, which this platform cannot "
            "start; use jobs=1 (--jobs 1)"
        )


def _child(send: Connection, work: Callable[[], Replayed]) -> None:
    """A child's whole life: do ``work``, send the answer or the error, end."""
    try:
        answer: tuple[str, object] = ("ok", work())
    except BaseException as exc:  # every failure goes back to the parent
        answer = ("error", _portable(exc))
    send.send(answer)
    send.close()


def _portable(exc: BaseException) -> BaseException:
    """``exc`` if it survives pickling (orderflow's errors do), else an
    :class:`OrderflowError` with its type and message; anything but an orderflow error
    (a bug) carries the child's traceback as a note, which pickling does not keep."""
    if not isinstance(exc, OrderflowError):
        exc.add_note("the child process's traceback:\n" + traceback.format_exc())
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:  # whatever makes it unpicklable
        plain = OrderflowError(f"{type(exc).__name__}: {exc}")
        for note in getattr(exc, "__notes__", ()):
            plain.add_note(note)
        return plain
    return exc


class _Children:
    """At most ``limit`` forked children at once, each answering once on its own pipe."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.todo: list[tuple[int, str, Callable[[], Replayed]]] = []
        self.running: dict[Connection, tuple[int, str, BaseProcess]] = {}
        self.done: dict[int, Replayed] = {}
        self.context = multiprocessing.get_context("fork")

    def add(self, name: str, work: Callable[[], Replayed]) -> None:
        self.todo.append((len(self.todo), name, work))

    def start_some(self) -> None:
        """Start children until ``limit`` run or none is left to start."""
        while self.todo and len(self.running) < self.limit:
            index, name, work = self.todo.pop(0)
            receive, send = self.context.Pipe(duplex=False)
            process = self.context.Process(
                target=_child, args=(send, work), name=f"orderflow-whatif-{name}", daemon=True
            )
            with warnings.catch_warnings():
                # Python 3.12+ warns when a process with threads forks (a PostgreSQL
                # source's pool has some): a lock one of them held stays locked in the
                # child. The child replays into memory and never touches the pool.
                warnings.filterwarnings("ignore", r".*multi-threaded.*fork", DeprecationWarning)
                process.start()
            send.close()  # the child's end: the parent reads end-of-file if it dies
            self.running[receive] = (index, name, process)

    def answers(self) -> Iterator[Replayed]:
        """Every child's answer, in the order the work was added."""
        total = len(self.todo) + len(self.running) + len(self.done)
        while self.running:
            for ready in wait(list(self.running)):
                assert isinstance(ready, Connection)
                index, name, process = self.running.pop(ready)
                self.done[index] = self._answer(ready, name, process)
                self.start_some()
        return (self.done[i] for i in range(total))

    @staticmethod
    def _answer(ready: Connection, name: str, process: BaseProcess) -> Replayed:
        try:
            kind, value = ready.recv()
        except EOFError:
            process.join()
            code = process.exitcode
            if code is not None and code < 0:
                how = f"killed by signal {signal.Signals(-code).name}"
                if code == -signal.SIGKILL:
                    how += ", as the kernel ends a process that runs the machine out of memory"
                fix = "replay fewer policies at once (--jobs)"
            else:
                how, fix = f"exit code {code}", "run it with --jobs 1 to see its error"
            raise OrderflowError(
                f"the replay under {name!r} (process {process.pid}) ended without an "
                f"answer ({how}): {fix}"
            ) from None
        finally:
            ready.close()
        process.join()
        if kind == "error":
            assert isinstance(value, BaseException)
            raise value
        assert isinstance(value, Replayed)
        return value

    def __enter__(self) -> _Children:
        return self

    def __exit__(self, *exc: object) -> None:
        # an error (here or in one child) stops the others: nobody reads their answers
        for _, _, process in self.running.values():
            process.kill()
            process.join()
        for receive in self.running:
            receive.close()
        self.running.clear()
