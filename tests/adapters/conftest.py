"""Fixtures for the store adapter tests.

``postgres_url`` is the server the PostgreSQL tests talk to: ``ORDERFLOW_TEST_POSTGRES_URL``
(default ``postgresql://postgres@127.0.0.1:5432/test``). When it cannot be reached the tests
are skipped with a one-line reason, except under ``CI=true``, where they fail: CI must never
pass by skipping them. Every test gets its own schema (``of_t_<worker>_<random>_<n>``),
dropped afterwards; the session drops any leftover schema of its prefix.
"""

from __future__ import annotations

import itertools
import os
import secrets
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from orderflow.adapters.postgres import PostgresStore

DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"

_counter = itertools.count()


def _reason(url: str, exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"PostgreSQL not reachable at {url}: {text[0] if text else type(exc).__name__}"


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """A reachable PostgreSQL URL, or skip (fail under ``CI=true``)."""
    url = os.environ.get("ORDERFLOW_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)
    try:
        import psycopg

        psycopg.connect(url, connect_timeout=3, autocommit=True).close()
    except Exception as exc:
        reason = _reason(url, exc)
        if os.environ.get("CI") == "true":
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    return url


def pg_execute(url: str, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Run one autocommitted statement on a fresh connection; return its rows (if any)."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        cur = conn.execute(sql.encode(), params)
        return cur.fetchall() if cur.description is not None else []


@pytest.fixture(scope="session")
def pg_schema_prefix(postgres_url: str) -> Iterator[str]:
    """The prefix of every schema this test session (xdist worker) creates."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    prefix = f"of_t_{worker}_{secrets.token_hex(3)}"
    yield prefix
    rows = pg_execute(
        postgres_url,
        "SELECT nspname FROM pg_namespace WHERE starts_with(nspname, %s)",
        (prefix + "_",),
    )
    for (name,) in rows:
        pg_execute(postgres_url, f'DROP SCHEMA IF EXISTS "{name}" CASCADE')


@pytest.fixture
def pg_schema(postgres_url: str, pg_schema_prefix: str) -> Iterator[str]:
    """A fresh schema name for one test (created by the first store opened on it)."""
    name = f"{pg_schema_prefix}_{next(_counter)}"
    yield name
    pg_execute(postgres_url, f'DROP SCHEMA IF EXISTS "{name}" CASCADE')


@pytest.fixture
def pg_store_factory(postgres_url: str, pg_schema: str) -> Iterator[Callable[..., PostgresStore]]:
    """Open :class:`~orderflow.adapters.postgres.PostgresStore` instances on the test's
    schema (keyword arguments pass through; ``url=`` another role's URL); all are closed
    after the test."""
    opened: list[PostgresStore] = []

    def make(**kwargs: Any) -> PostgresStore:
        kwargs.setdefault("schema", pg_schema)
        kwargs.setdefault("origin", "plant1.example/pg-test")
        store = PostgresStore(kwargs.pop("url", postgres_url), **kwargs)
        opened.append(store)
        return store

    yield make
    for store in opened:
        store.close()


@pytest.fixture
def pg_store(pg_store_factory: Callable[..., PostgresStore]) -> PostgresStore:
    """A migrated, empty PostgresStore on a fresh schema."""
    return pg_store_factory()
