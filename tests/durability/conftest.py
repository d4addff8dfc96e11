"""The PostgreSQL fixtures of the adapter tests (a reachable server, a schema per test;
skipped when unreachable, failed under ``CI=true``) for the durability tests."""

from __future__ import annotations

from tests.adapters.conftest import pg_schema, pg_schema_prefix, postgres_url

__all__ = ["pg_schema", "pg_schema_prefix", "postgres_url"]
