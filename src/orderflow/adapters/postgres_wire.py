"""A lookup sent ahead of its answer, by hand on libpq, for the PostgreSQL store.

psycopg's ``execute`` waits for its answer. A keyed call in a caller's batch asks two
questions whose answers it needs only when it is done (was the idempotency key used?
is the new order's number free?): :class:`AheadLookup` sends such a question with
libpq's ``PQsendQueryPrepared`` (a statement prepared once per connection) and reads
the answer later, so the call's own work overlaps the round trip. One question is on
the wire at a time; the transaction reads it before any other use of the connection
and before the savepoint it was sent in ends
(:class:`~orderflow.adapters.postgres_tx._PgTx`).

psycopg answers a ``ROLLBACK``, ``DROP`` or ``ALTER`` it runs, on a connection where it
has prepared statements of its own, with ``DEALLOCATE ALL``, which drops these too. So
the store rolls back by hand (:func:`command`), forgets a connection's statements when
it runs raw SQL on it (:func:`forget_prepared`), prepares under a fresh name after that,
and turns a statement found missing anyway into a retryable
:class:`~orderflow.exceptions.ConcurrencyConflict`.
"""

from __future__ import annotations

import contextlib
import itertools
import select
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from orderflow.adapters.postgres_sql import _error
from orderflow.exceptions import ConcurrencyConflict

if TYPE_CHECKING:
    import psycopg

__all__ = ["AheadLookup", "command", "forget_prepared"]

_PREPARED: weakref.WeakKeyDictionary[Any, dict[bytes, bytes]] = weakref.WeakKeyDictionary()
"""The statements prepared on each open connection (a closed one drops out): each
statement's name, and the name it has on the server."""
_SERVER_NAMES = itertools.count()
_MISSING_STATEMENT = "26000"  # invalid_sql_statement_name


def forget_prepared(conn: Any) -> None:
    """Prepare the lookups again on ``conn`` (under new names: the old ones may or may
    not be there): raw SQL was run on it, which psycopg may answer with ``DEALLOCATE
    ALL``."""
    _PREPARED.get(conn, {}).clear()


def command(conn: Any, driver: Any, sql: bytes) -> bool:
    """Run the parameterless ``sql`` (``ROLLBACK``, or ``ROLLBACK TO SAVEPOINT`` and
    ``RELEASE`` together) on libpq, where psycopg does not see it (it would deallocate
    every prepared statement); whether the server accepted it (a driver error is
    ``False`` too)."""
    try:
        res = conn.pgconn.exec_(sql)
    except driver.Error:
        return False
    return bool(res.status == driver.pq.ExecStatus.COMMAND_OK)


class AheadLookup:
    """The one question on a connection's wire, and what to do with its answer."""

    __slots__ = ("_broken", "_conn", "_driver", "_prepared", "_sent")

    def __init__(
        self, conn: psycopg.Connection[Any], driver: Any, broken: Callable[[], None]
    ) -> None:
        self._conn = conn
        self._driver = driver  # the psycopg module (an optional extra)
        self._broken = broken  # a driver error ends the whole transaction
        self._sent: tuple[str, str, Callable[[Any], None]] | None = None
        self._prepared = _PREPARED.setdefault(conn, {})  # looked up once a transaction

    @property
    def waiting(self) -> bool:
        """Whether an answer is still to be read."""
        return self._sent is not None

    def send(
        self,
        statement: tuple[bytes, bytes],
        params: list[bytes],
        what: str,
        key: str,
        take: Callable[[Any], None],
    ) -> None:
        """Send ``statement`` (its name, and its SQL with ``$1`` placeholders; text
        parameters), prepared on this connection the first time; ``take(result)`` acts on
        its answer when it is read (and may raise: the caller's savepoint rolls back)."""
        if self._sent is not None:
            self.settle()
        pg = self._conn.pgconn
        name, sql = statement
        try:
            server_name = self._prepared.get(name)
            if server_name is None:
                # once per connection, and blocking (libpq's PQprepare): a named statement
                # outlives transactions, rolled back or not, until the connection closes
                server_name = b"%s_%d" % (name, next(_SERVER_NAMES))
                self._check(pg.prepare(server_name, sql), what, key)
                self._prepared[name] = server_name
            pg.send_query_prepared(server_name, params)
            if pg.flush():
                self._wait(select.POLLOUT, pg.flush)
        except self._driver.Error as exc:
            self._broken()
            raise _error(exc, what, key) from exc
        self._sent = (what, key, take)

    def settle(self) -> None:
        """Read the answer on the wire (waiting if it is not in yet) and act on it."""
        sent, self._sent = self._sent, None
        if sent is None:
            return
        what, key, take = sent
        pg = self._conn.pgconn

        def busy() -> bool:
            pg.consume_input()
            return bool(pg.is_busy())

        try:
            self._wait(select.POLLIN, busy)
            results = []
            while (res := pg.get_result()) is not None:
                results.append(res)
        except self._driver.Error as exc:
            self._broken()
            raise _error(exc, what, key) from exc
        (res,) = results
        self._check(res, what, key, self._driver.pq.ExecStatus.TUPLES_OK)
        take(res)

    def _check(self, res: Any, what: str, key: str, ok: Any = None) -> None:
        """Raise the server's refusal in ``res`` (status other than ``ok``; ``None``: a
        command's) as a store error; the transaction is over."""
        if res.status != (self._driver.pq.ExecStatus.COMMAND_OK if ok is None else ok):
            self._broken()
            refused = self._driver.errors.error_from_result(res, encoding="utf-8")
            if getattr(refused, "sqlstate", None) == _MISSING_STATEMENT:
                # deallocated behind our back: prepare again when the caller retries
                self._prepared.clear()
                raise ConcurrencyConflict(
                    key, -1, f"a prepared statement was dropped while {what}"
                ) from refused
            raise _error(refused, what, key) from refused

    def drain(self) -> None:
        """Read any answer still on the wire and drop it, so the connection can roll
        back (the transaction is rolled back, or its connection closed, anyway)."""
        with contextlib.suppress(Exception):
            self.settle()

    def _wait(self, event: int, again: Callable[[], Any]) -> None:
        """Wait on the connection's socket for ``event`` until ``again()`` is falsy."""
        if not again():
            return  # the usual case: the answer is in before the call's work is done
        poll = select.poll()  # not a selector: an epoll object per call costs syscalls
        poll.register(self._conn.pgconn.socket, event)
        while True:
            poll.poll()
            if not again():
                return


def text_row(res: Any) -> tuple[str, ...] | None:
    """The first row of a text-format libpq result, or ``None``."""
    if not res.ntuples:
        return None
    return tuple(bytes(res.get_value(0, c) or b"").decode() for c in range(res.nfields))
