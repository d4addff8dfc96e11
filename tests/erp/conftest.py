"""Fixtures of the ERP bridge tests: a K3-shaped in-memory ERP, SQLite and PostgreSQL.

PostgreSQL tests are marked ``postgres``; when the server (``ORDERFLOW_TEST_POSTGRES_URL``,
default ``postgresql://postgres@127.0.0.1:5432/test``) is unreachable they skip, unless
``CI=true``, then they fail.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from orderflow.clock import FrozenClock
from orderflow.erp import ErpMapping, load_preset
from orderflow.testing.erp_fakes import InMemoryErpStore
from orderflow.testing.k3_fixture import create_k3_schema, drop_k3_schema

DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/test"


def postgres_url() -> str:
    """The PostgreSQL test URL with the psycopg 3 driver."""
    url = os.environ.get("ORDERFLOW_TEST_POSTGRES_URL", DEFAULT_PG_URL)
    for prefix in ("postgresql+psycopg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


@pytest.fixture
def k3() -> ErpMapping:
    """The shipped Kingdee K3 WISE mapping."""
    return load_preset("kingdee-k3-wise")


@pytest.fixture
def store() -> InMemoryErpStore:
    """An empty in-memory order service + sync state."""
    return InMemoryErpStore(FrozenClock())


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[sa.Engine]:
    """A K3-shaped SQLite database file (empty tables)."""
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'k3.db'}")
    create_k3_schema(engine)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def pg_admin() -> Iterator[sa.Engine]:
    """An engine on the PostgreSQL test server as its admin user (skips if unreachable)."""
    url = postgres_url()
    engine = sa.create_engine(url, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("select 1"))
    except sa.exc.OperationalError as exc:
        engine.dispose()
        reason = f"PostgreSQL unreachable at {url}: {str(exc.orig).splitlines()[0]}"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    yield engine
    engine.dispose()


@pytest.fixture
def pg_schema(pg_admin: sa.Engine) -> Iterator[str]:
    """A fresh K3-shaped schema ``k3_test_<random>``, dropped afterwards."""
    name = f"k3_test_{secrets.token_hex(4)}"
    create_k3_schema(pg_admin, schema=name)
    try:
        yield name
    finally:
        drop_k3_schema(pg_admin, schema=name)
