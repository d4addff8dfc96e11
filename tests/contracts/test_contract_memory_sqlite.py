"""The shared contract, run against the in-memory and SQLite stores."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from orderflow.adapters.memory import MemoryStore
from orderflow.adapters.sqlite import SqliteStore
from orderflow.ports import Store
from orderflow.testing.contracts import StoreContract


class TestMemoryStore(StoreContract):
    @pytest.fixture
    def store(self) -> Iterator[Store]:
        s = MemoryStore()
        yield s
        s.close()

    def tamper(self, store: Store, index: int, data: bytes) -> None:
        assert isinstance(store, MemoryStore)
        store.tamper(index, data)


class TestSqliteStore(StoreContract):
    @pytest.fixture
    def store(self, tmp_path: Path) -> Iterator[Store]:
        s = SqliteStore(tmp_path / "orderflow.db", synchronous="NORMAL")
        yield s
        s.close()

    def tamper(self, store: Store, index: int, data: bytes) -> None:
        assert isinstance(store, SqliteStore)
        store.execute_raw("UPDATE audit_log SET data = ? WHERE idx = ?", (data, index + 1))


class TestSqliteInMemory(TestSqliteStore):
    @pytest.fixture
    def store(self) -> Iterator[Store]:
        s = SqliteStore(":memory:")
        yield s
        s.close()
