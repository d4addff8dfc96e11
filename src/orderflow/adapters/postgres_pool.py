"""A :class:`~orderflow.adapters.postgres.PostgresStore`'s connections: one
``psycopg_pool`` pool per process, opened on first use, and unpooled connections for
the schema migration (an unreachable server then fails at once, not after the pool's
timeout)."""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from orderflow.adapters.postgres_sql import _error
from orderflow.exceptions import StoreError

if TYPE_CHECKING:
    import psycopg
    from psycopg_pool import ConnectionPool

__all__ = ["Connections", "safe_url"]


def safe_url(url: str) -> str:
    """``url`` with its password masked, for messages."""
    return re.sub(r"(://[^:/@]*):[^@]*@", r"\1:***@", url)


class Connections:
    """Autocommit connections to ``url``, each set up by ``configure`` once."""

    def __init__(
        self,
        driver: Any,
        url: str,
        *,
        name: str,
        configure: Callable[[psycopg.Connection[Any]], None],
        pool_size: int,
        pool_timeout: float,
        connect_timeout: int,
    ) -> None:
        self._driver = driver
        self.url = url
        self._name = name
        self._configure = configure
        self._size = pool_size
        self._timeout = pool_timeout
        self._connect_timeout = connect_timeout
        self.pool: ConnectionPool[Any] | None = None
        self._pid = 0
        self._forked: list[Any] = []  # a parent's pools, kept open in a fork child
        self._closed = False
        self._lock = threading.Lock()
        self._held = threading.local()  # connections the calling thread holds

    def _kwargs(self) -> dict[str, Any]:
        return {
            "autocommit": True,
            "connect_timeout": self._connect_timeout,
            "application_name": "orderflow",
        }

    def connect(self) -> psycopg.Connection[Any]:
        """A new configured connection outside the pool (the caller closes it)."""
        try:
            conn: psycopg.Connection[Any] = self._driver.connect(self.url, **self._kwargs())
            self._configure(conn)
        except self._driver.Error as exc:
            raise _error(exc, f"connecting to {safe_url(self.url)}") from exc
        return conn

    def _pool(self) -> ConnectionPool[Any]:
        """This process's pool, opened on first use (a fork child opens its own and
        leaves the parent's sessions alone: closing them would end the parent's)."""
        pool = self.pool
        if pool is not None and self._pid == os.getpid():
            return pool
        with self._lock:
            if self._closed:
                raise StoreError("this PostgresStore is closed")
            if self.pool is not None and self._pid != os.getpid():
                self._forked.append(self.pool)
                self.pool = None
                self._held = threading.local()  # the parent's, not this process's
            if self.pool is None:
                from psycopg_pool import ConnectionPool

                self.pool = ConnectionPool(
                    self.url,
                    min_size=1,
                    max_size=self._size,
                    timeout=self._timeout,
                    open=False,
                    configure=self._configure,
                    name=self._name,
                    kwargs=self._kwargs(),
                )
                self.pool.open(wait=False)
                self._pid = os.getpid()
            return self.pool

    def get(self) -> psycopg.Connection[Any]:
        """A pooled connection (give it back with :meth:`put`)."""
        from psycopg_pool import PoolTimeout

        pool = self._pool()
        held = getattr(self._held, "n", 0)
        if held >= self._size:
            # waiting could only time out: nobody else will give one back
            raise StoreError(
                f"this thread already holds all {self._size} PostgreSQL connection(s) of "
                "the pool (a read beside its own open transaction needs one more); "
                f"raise pool_size above {self._size}"
            )
        try:
            conn: psycopg.Connection[Any] = pool.getconn()
            self._held.n = held + 1
            return conn
        except PoolTimeout as exc:
            raise StoreError(
                f"no PostgreSQL connection free within {self._timeout:g} s "
                f"(pool_size={self._size}); raise pool_size or shorten transactions, "
                f"or check that {safe_url(self.url)} is reachable"
            ) from exc

    def put(self, conn: psycopg.Connection[Any]) -> None:
        """Give a connection from :meth:`get` back (closed if its pool is gone)."""
        self._held.n = max(getattr(self._held, "n", 0) - 1, 0)
        pool = self.pool
        if pool is not None and self._pid == os.getpid() and not pool.closed:
            pool.putconn(conn)
        else:
            conn.close()

    @contextmanager
    def borrow(self) -> Iterator[psycopg.Connection[Any]]:
        """A pooled connection for the ``with`` block."""
        conn = self.get()
        try:
            yield conn
        finally:
            self.put(conn)

    def close(self) -> None:
        """Close this process's pool; later calls raise :class:`StoreError`."""
        with self._lock:
            self._closed = True
            pool, self.pool = self.pool, None
        if pool is not None and self._pid == os.getpid():
            pool.close()
