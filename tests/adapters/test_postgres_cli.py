"""The CLI takes every store URL the PostgreSQL guide documents, schema per plant included."""

from __future__ import annotations

import pytest

from orderflow.bootstrap import connect
from orderflow.cli import main
from orderflow.testing.contracts import draft, seeded_service

pytestmark = pytest.mark.postgres


def test_audit_verify_reads_a_plant_schema_from_the_url(
    postgres_url: str, pg_schema: str, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"{postgres_url}?schema={pg_schema}&pool_size=2"
    svc = seeded_service(connect(url).store)
    svc.submit(draft(), actor="s")
    svc.store.close()
    assert main(["audit", "verify", "--db", url]) == 0
    assert "audit log verified: 2 entries" in capsys.readouterr().out
