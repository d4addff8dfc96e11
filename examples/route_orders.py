"""Route delivery addresses to factories offline, then show a refused cross-factory read (R10).

Run::

    .venv/bin/python examples/route_orders.py
"""

from __future__ import annotations

import attrs

from orderflow.exceptions import AccessDenied, GeoError, UnknownAddress
from orderflow.geo import (
    Actor,
    CircleFence,
    Factory,
    LatLon,
    Router,
    TableGeocoder,
    check,
    destination,
    readable,
    require_on_site,
)


@attrs.frozen
class OrderRef:
    """Stands in for an order: anything with a ``factory_id`` works with the access helpers."""

    number: str
    factory_id: str


def main() -> None:
    """Geocode, route, and enforce factory scopes."""
    beilun = LatLon(29.8994, 121.8440)
    factories = [
        Factory("NB-1", beilun, "Ningbo hydraulic valves", products={"HV-200", "HV-300"}),
        Factory(
            "SZ-1",
            LatLon(22.7209, 114.2468),
            "Shenzhen auto parts",
            fence=CircleFence(LatLon(22.7209, 114.2468), 800),
            products={"AP-10", "HV-200"},
        ),
        Factory("SU-1", LatLon(31.3171, 120.7196), "Suzhou auto parts", products={"AP-10"}),
    ]
    router = Router(factories)
    geocoder = TableGeocoder.builtin()

    orders = [
        ("HY20260122-887", "浙江省宁波市鄞州区首南街道 12 号", "HV-200"),
        ("HY20260122-888", "广东省深圳市宝安区福永", "HV-200"),
        ("HY20260122-889", "上海市嘉定区安亭镇", "AP-10"),
        ("HY20260122-890", "火星基地 1 号", "AP-10"),
        ("HY20260122-891", "黑龙江省哈尔滨市", "HV-300"),
    ]
    routed: list[OrderRef] = []
    for number, address, product in orders:
        try:
            place = geocoder.geocode(address)
            route = router.route(place.position, product)
        except UnknownAddress as exc:
            print(f"{number}: {exc}\n")
            continue
        except GeoError as exc:
            print(f"{number}: cannot route: {exc}\n")
            continue
        print(f"{number}: {address} -> {place.place} {place.position}")
        print(route.explain(), end="\n\n")
        routed.append(OrderRef(number, route.factory_id))

    clerk = Actor("wang.fang", {"SZ-1": "operator"})
    print(f"{clerk.id} (operator at SZ-1) may read:", [o.number for o in readable(clerk, routed)])
    ningbo_order = next(o for o in routed if o.factory_id == "NB-1")
    try:
        check(clerk, ningbo_order.factory_id, "read")
    except AccessDenied as exc:
        print(f"reading {ningbo_order.number}: refused: {exc}")

    scanner = Actor("li.wei", {"NB-1": "operator"})
    check(scanner, "NB-1", "scan")
    try:
        require_on_site(destination(beilun, 135.0, 1_200.0), router.factory("NB-1"), actor=scanner)
    except AccessDenied as exc:
        print(f"warehouse scan: refused: {exc.action}")


if __name__ == "__main__":
    main()
