"""The shared store contract (:mod:`orderflow.testing.contracts`) run against PostgresStore.

Each test gets a fresh schema on the server named by ``ORDERFLOW_TEST_POSTGRES_URL``
(see ``conftest.py``: skipped when unreachable, failed under ``CI=true``).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from orderflow.adapters.postgres import PostgresStore
from orderflow.ports import Store
from orderflow.testing.contracts import StoreContract

pytestmark = pytest.mark.postgres


class TestPostgresStore(StoreContract):
    @pytest.fixture
    def store(self, pg_store_factory: Callable[..., PostgresStore]) -> Store:
        return pg_store_factory()  # closed, and its schema dropped, by the fixtures

    def tamper(self, store: Store, index: int, data: bytes) -> None:
        assert isinstance(store, PostgresStore)
        store.execute_raw("UPDATE audit_log SET data = %s WHERE idx = %s", (data, index))
