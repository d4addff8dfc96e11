"""The service applies factory scopes (R10) and routes drafts without a factory."""

from __future__ import annotations

import attrs
import pytest

from orderflow import AccessDenied, InputError, UnknownAddress
from orderflow.adapters.memory import MemoryStore
from orderflow.geo import Actor, Factory, LatLon, Router, TableGeocoder
from orderflow.service import OrderService
from orderflow.testing.contracts import draft, seeded_service

NINGBO = Factory("NB1", LatLon(29.90, 121.84), products={"HV-100"})
SHENZHEN = Factory("SZ1", LatLon(22.54, 114.06), products={"HV-100"})


def routed_service() -> OrderService:
    svc = seeded_service(MemoryStore())
    svc.router = Router([NINGBO, SHENZHEN])
    svc.geocoder = TableGeocoder.builtin()
    return svc


def test_actor_of_another_factory_is_refused_with_the_r10_message() -> None:
    svc = seeded_service(MemoryStore())
    order = svc.submit(draft(), actor=Actor("wang", {"NB1": "operator"})).order
    outsider = Actor("chen", {"SZ1": "manager"})
    with pytest.raises(AccessDenied) as refused:
        svc.get(order.id, actor=outsider)
    assert "您无权访问该区域订单，请联系区域管理员" in str(refused.value)
    with pytest.raises(AccessDenied):
        svc.fire(order.id, "lock_kitting", actor=outsider)
    assert svc.get(order.id).version == 0  # nothing changed
    assert svc.get(order.id, actor=Actor("boss", group_admin=True)).id == order.id
    viewer = Actor("zhao", {"NB1": "viewer"})
    assert svc.get(order.id, actor=viewer).id == order.id
    with pytest.raises(AccessDenied, match="viewer"):
        svc.fire(order.id, "lock_kitting", actor=viewer)


def test_draft_without_factory_goes_to_the_nearest() -> None:
    svc = routed_service()
    north = attrs.evolve(draft(), factory_id="", delivery_address="浙江省宁波市北仑区新碶街道")
    assert svc.submit(north, actor="sales").order.factory_id == "NB1"
    south = attrs.evolve(draft(), factory_id="", delivery_address="广东省深圳市南山区")
    assert svc.submit(south, actor="sales").order.factory_id == "SZ1"


def test_unknown_address_is_refused_not_defaulted() -> None:
    svc = routed_service()
    lost = attrs.evolve(draft(), factory_id="", delivery_address="Atlantis harbour 7")
    with pytest.raises(UnknownAddress):
        svc.submit(lost, actor="sales")
    with pytest.raises(InputError, match="no router/geocoder"):
        seeded_service(MemoryStore()).submit(lost, actor="sales")
