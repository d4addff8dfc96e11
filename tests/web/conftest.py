"""A small plant behind the web app: one NB1 order line, staff of NB1 and of SZ2."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import attrs
import pytest

from orderflow.adapters.memory import MemoryStore
from orderflow.geo import Actor
from orderflow.service import OrderService
from orderflow.testing.contracts import seeded_service
from orderflow.web import StaffUser, WebConfig, create_app, hash_password

PASSWORD = "correct horse"
# one hash for every test user: scrypt is slow on purpose
_HASH = hash_password(PASSWORD)
USERS = (
    StaffUser("li", _HASH, Actor("li", {"NB1": "manager"})),
    StaffUser("wu", _HASH, Actor("wu", {"SZ2": "manager"})),  # factory B: no NB1 access
)


def make_service() -> OrderService:
    """A seeded service with strict slip limits (3 wrong codes lock a number)."""
    svc = seeded_service(MemoryStore())
    svc.change_policy(
        attrs.evolve(svc.policy, slip_max_failures=3, slip_caller_max_failures=10),
        actor="admin",
    )
    return svc


def make_client(svc: OrderService, **config: Any) -> Any:
    from starlette.testclient import TestClient

    app = create_app(svc, config=WebConfig(users=USERS, **config))
    return TestClient(app, raise_server_exceptions=False)


@pytest.fixture
def svc() -> OrderService:
    return make_service()


@pytest.fixture
def client(svc: OrderService) -> Iterator[Any]:
    with make_client(svc) as c:
        yield c


def login(client: Any, user: str = "li") -> str:
    """Sign ``user`` in; the session's CSRF token (read from a staff page's form)."""
    client.get("/login")
    form = client.cookies.get("orderflow_form")
    response = client.post(
        "/login",
        data={"user": user, "password": PASSWORD, "csrf": form, "next": "/dashboard"},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    page: str = client.get("/dashboard").text
    marker = 'name="csrf" value="'
    token: str = page[page.index(marker) + len(marker) :].split('"', 1)[0]
    return token
