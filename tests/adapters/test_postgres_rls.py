"""Factory scopes enforced by PostgreSQL itself: row-level security on orders (R10).

Roles are real, non-superuser login roles (a superuser bypasses row-level security),
created for the test and dropped after it. The schema's owner (the test's superuser
connection) is the group's admin and sees every plant.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest
from psycopg.conninfo import make_conninfo

from orderflow.adapters.postgres import PostgresStore
from orderflow.domain.order import Order, OrderLine, new_order
from orderflow.exceptions import StoreError
from orderflow.testing.contracts import START
from tests.adapters.conftest import pg_execute

pytestmark = pytest.mark.postgres
Factory = Callable[..., PostgresStore]


def _order(number: str, factory: str) -> Order:
    order, _ = new_order(
        number=number,
        customer_id="C001",
        lines=[OrderLine("HV-100", 1, "10")],
        requested_date=START.date(),
        factory_id=factory,
        initial_stage="pending_review",
        created_at=START,
    )
    return order


@pytest.fixture
def plant_roles(postgres_url: str) -> Iterator[dict[str, str]]:
    """Two login roles ``{"A": name, "B": name}``, dropped after the test."""
    stem = f"of_t_{secrets.token_hex(3)}"
    roles = {"A": f"{stem}_plant_a", "B": f"{stem}_plant_b"}
    for role in roles.values():
        pg_execute(postgres_url, f'CREATE ROLE "{role}" LOGIN NOSUPERUSER NOBYPASSRLS')
    yield roles
    for role in roles.values():
        pg_execute(postgres_url, f'DROP OWNED BY "{role}" CASCADE')
        pg_execute(postgres_url, f'DROP ROLE "{role}"')


def test_plant_b_sees_none_of_plant_a_even_through_raw_sql(
    pg_store_factory: Factory, postgres_url: str, plant_roles: dict[str, str]
) -> None:
    admin = pg_store_factory()
    with admin.transaction() as tx:
        for k in range(3):
            tx.insert_order(_order(f"PA20260105-{k}", "A"))
        tx.insert_order(_order("PB20260105-0", "B"))
    for factory, role in plant_roles.items():
        admin.register_plant_role(role, factory)

    url_b = make_conninfo(postgres_url, user=plant_roles["B"])
    plant_b = pg_store_factory(factory="B", url=url_b)
    assert [o.factory_id for o in plant_b.orders()] == ["B"]
    a_id = next(o.id for o in admin.orders() if o.factory_id == "A")
    with plant_b.transaction() as tx:
        assert tx.get_order(a_id) is None
        assert tx.find_order_id("number", "PA20260105-0") is None
        tx.insert_order(_order("PB20260105-1", "B"))  # its own plant: allowed
    assert sorted(o.number for o in plant_b.orders()) == ["PB20260105-0", "PB20260105-1"]

    with psycopg.connect(url_b, autocommit=True) as raw:  # raw SQL as plant B
        raw.execute(f'SET search_path TO "{admin.schema}"')
        raw.execute("SET orderflow.factory = 'A'")  # a session setting changes nothing
        count = raw.execute("SELECT count(*) FROM orders WHERE factory_id = 'A'").fetchone()
        assert count == (0,)
        assert raw.execute("UPDATE orders SET stage = 'x' WHERE factory_id = 'A'").rowcount == 0
        assert raw.execute("DELETE FROM orders WHERE factory_id = 'A'").rowcount == 0
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            raw.execute(
                "INSERT INTO orders SELECT * FROM orders WHERE false UNION ALL "
                "SELECT id || 'x', number || 'x', customer_id, 'A', stage, version, "
                "requested_date, created_at, stage_entered_at, held_from, query_token_hash, "
                "verification_code, delivery_address, erp_id, erp_number, deadline, lines "
                "FROM orders WHERE factory_id = 'B'"
            )  # row-level security refuses a row of another plant
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            raw.execute("UPDATE plant_roles SET factory_id = 'A'")  # the map is the admin's
    # the admin (the schema's owner) still sees every plant
    assert sorted(o.factory_id for o in admin.orders()) == ["A", "A", "A", "B", "B"]


def test_a_store_opened_for_another_plant_is_refused(
    pg_store_factory: Factory, postgres_url: str, plant_roles: dict[str, str]
) -> None:
    admin = pg_store_factory()
    admin.register_plant_role(plant_roles["B"], "B")
    url_b = make_conninfo(postgres_url, user=plant_roles["B"])
    with pytest.raises(StoreError, match="not the role of plant 'A'"):
        pg_store_factory(factory="A", url=url_b)
    with pytest.raises(StoreError, match="not the role of plant 'B'"):
        pg_store_factory(factory="B")  # the admin role is no plant's role


def test_a_plant_role_writes_and_integrates_its_audit_entries(
    pg_store_factory: Factory, postgres_url: str, plant_roles: dict[str, str]
) -> None:
    admin = pg_store_factory()
    admin.register_plant_role(plant_roles["A"], "A")
    plant_a = pg_store_factory(factory="A", url=make_conninfo(postgres_url, user=plant_roles["A"]))
    order = _order("PA20260105-9", "A")
    with plant_a.transaction() as tx:
        tx.insert_order(order)
        tx.append_audit(order.id, 0, b"e0", b"\x00" * 32)
    assert plant_a.integrate() == 1
    assert admin.audit_size() == 1
    rows: list[Any] = pg_execute(
        postgres_url, f'SELECT factory_id FROM "{admin.schema}".orders WHERE id = %s', (order.id,)
    )
    assert rows == [("A",)]


def test_connect_opens_a_plant_scoped_store_from_the_url(
    pg_store_factory: Factory, postgres_url: str, plant_roles: dict[str, str]
) -> None:
    from urllib.parse import urlsplit

    from orderflow.bootstrap import connect

    admin = pg_store_factory()
    admin.register_plant_role(plant_roles["B"], "B")
    parts = urlsplit(postgres_url)
    host = parts.netloc.rsplit("@", 1)[-1]
    url = f"postgresql://{plant_roles['B']}@{host}{parts.path}?schema={admin.schema}"
    service = connect(f"{url}&factory=B", number_prefix="PB")
    try:
        assert getattr(service.store, "factory", None) == "B"
    finally:
        service.store.close()
    with pytest.raises(StoreError, match="not the role of plant 'A'"):
        connect(f"{url}&factory=A")
