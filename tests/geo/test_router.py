"""Routing orders to the nearest eligible factory, single and batch (R10)."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orderflow.exceptions import GeoError, InputError
from orderflow.geo import (
    TIE_RESOLUTION_M,
    CircleFence,
    Factory,
    LatLon,
    Router,
    ServiceRegion,
    destination,
    haversine_m,
)

from .strategies import china_positions

NINGBO = Factory("NB-1", LatLon(29.8994, 121.8440), "Beilun valve plant", products={"HV-200"})
SHENZHEN = Factory("SZ-1", LatLon(22.7209, 114.2468), products={"HV-200", "AP-10"})
SUZHOU = Factory("SZ-2", LatLon(31.3171, 120.7196), products={"AP-10"}, max_delivery_m=300_000)
FACTORIES = [NINGBO, SHENZHEN, SUZHOU]
YINZHOU = LatLon(29.8169, 121.5469)
HARBIN = LatLon(45.8038, 126.5350)


def test_routes_to_the_nearest_factory_that_makes_the_product() -> None:
    router = Router(FACTORIES)
    route = router.route(YINZHOU, "HV-200")
    assert route.factory_id == "NB-1"
    assert route.distance_m == pytest.approx(haversine_m(NINGBO.location, YINZHOU), rel=1e-9)
    # NB-1 is nearer but does not make AP-10
    assert router.route(YINZHOU, "AP-10").factory_id == "SZ-2"
    # no product: nearest overall
    assert router.route(YINZHOU).factory_id == "NB-1"


def test_explanation_lists_every_candidate_with_distance_and_verdict() -> None:
    route = Router(FACTORIES).route(YINZHOU, "AP-10")
    assert [c.factory_id for c in route.candidates] == ["SZ-2", "SZ-1", "NB-1"]
    assert [c.eligible for c in route.candidates] == [True, True, False]
    assert route.candidates[2].refusal == "does not make product AP-10"
    for c in route.candidates:
        factory = {f.id: f for f in FACTORIES}[c.factory_id]
        assert c.distance_m == pytest.approx(haversine_m(factory.location, YINZHOU), rel=1e-9)
    text = route.explain()
    assert text.splitlines()[0].startswith("product AP-10 at (29.816900, 121.546900) -> factory")
    assert "NB-1: 30.1 km, refused: does not make product AP-10" in text
    assert " * SZ-2:" in text


def test_no_eligible_factory_explains_each_refusal() -> None:
    with pytest.raises(GeoError, match="no factory can take product AP-10") as info:
        Router([NINGBO, SUZHOU]).route(HARBIN, "AP-10")
    message = str(info.value)
    assert "NB-1" in message
    assert "does not make product AP-10" in message
    assert "beyond its delivery limit of 300 km" in message


def test_service_regions_limit_where_a_factory_delivers() -> None:
    zhejiang_only = Factory(
        "NB-2",
        LatLon(29.9, 121.6),
        service_regions=[ServiceRegion.circle("Ningbo 150 km", LatLon(29.87, 121.54), 150_000)],
    )
    far = Factory("CD-1", LatLon(30.57, 104.07))
    router = Router([zhejiang_only, far])
    assert router.route(YINZHOU).factory_id == "NB-2"
    shenzhen = LatLon(22.54, 114.06)
    route = router.route(shenzhen)
    assert route.factory_id == "CD-1"
    assert route.candidates[1].refusal == "outside its service regions (Ningbo 150 km)"


def test_ties_go_to_the_lowest_factory_id_whatever_the_input_order() -> None:
    centre = LatLon(30.0, 120.0)
    east = Factory("B-east", destination(centre, 90.0, 10_000))
    west = Factory("A-west", destination(centre, 270.0, 10_000))
    for order in ([east, west], [west, east]):
        route = Router(order).route(centre)
        assert route.factory_id == "A-west"
        assert route.tie
        assert "tie broken by lowest factory id" in route.explain()
        batch = Router(order).route_many([centre.lat], [centre.lon])
        assert batch.assigned() == ["A-west"]


def test_near_ties_closer_than_a_millimetre_count_as_ties() -> None:
    centre = LatLon(30.0, 120.0)
    a = Factory("A", destination(centre, 0.0, 5_000.0004))
    b = Factory("B", destination(centre, 180.0, 5_000.0))
    assert TIE_RESOLUTION_M == 0.001
    assert Router([b, a]).route(centre).factory_id == "A"
    c = Factory("C", destination(centre, 0.0, 5_000.01))
    assert Router([b, c]).route(centre).factory_id == "B"


def test_router_refuses_empty_and_duplicate_factory_lists() -> None:
    with pytest.raises(GeoError, match="no factories are configured"):
        Router([])
    with pytest.raises(GeoError, match="share the id 'NB-1'"):
        Router([NINGBO, Factory("NB-1", YINZHOU)])
    with pytest.raises(GeoError, match="Factory objects"):
        Router(["NB-1"])  # type: ignore[list-item]


def test_unknown_factory_lookup_names_known_ones() -> None:
    router = Router(FACTORIES)
    assert router.factory("SZ-1") is SHENZHEN
    with pytest.raises(GeoError, match=r"unknown factory 'XX' \(known: NB-1, SZ-1, SZ-2\)"):
        router.factory("XX")


def test_factory_validation() -> None:
    with pytest.raises(GeoError, match="single string 'HV-200'"):
        Factory("X", YINZHOU, products="HV-200")
    with pytest.raises(GeoError, match="factory id"):
        Factory("  ", YINZHOU)
    with pytest.raises(GeoError, match="max_delivery_m"):
        Factory("X", YINZHOU, max_delivery_m=-5)
    with pytest.raises(GeoError, match="location must be a LatLon"):
        Factory("X", (29.8, 121.5))  # type: ignore[arg-type]
    with pytest.raises(GeoError, match=r"centred .* km from its location"):
        Factory("X", YINZHOU, fence=CircleFence(LatLon(121.5 - 100, 29.8)))
    assert Factory("X", YINZHOU).fence == CircleFence(YINZHOU, 500.0)


def test_factory_at_finds_whose_premises_a_gps_fix_is_on() -> None:
    router = Router(FACTORIES)
    assert router.factory_at(destination(NINGBO.location, 30.0, 450.0)) is NINGBO
    assert router.factory_at(destination(NINGBO.location, 30.0, 550.0)) is None
    assert router.factory_at(HARBIN) is None


def test_batch_routing_matches_single_routing() -> None:
    rng = random.Random(7)
    regional = Factory(
        "HZ-1",
        LatLon(30.27, 120.16),
        service_regions=[
            ServiceRegion.circle("Hangzhou 250 km", LatLon(30.27, 120.16), 250_000),
            ServiceRegion(
                "west", [LatLon(25, 105), LatLon(25, 110), LatLon(35, 110), LatLon(35, 105)]
            ),
        ],
    )
    router = Router([*FACTORIES, regional], chunk_size=64)
    lats = [rng.uniform(20.0, 40.0) for _ in range(300)]
    lons = [rng.uniform(105.0, 125.0) for _ in range(300)]
    products = [rng.choice(["HV-200", "AP-10", None]) for _ in range(300)]
    batch = router.route_many(lats, lons, products, unroutable="mark")
    assert len(batch) == 300
    for i in range(300):
        try:
            single = router.route(LatLon(lats[i], lons[i]), products[i])
        except GeoError:
            assert batch.factory_id(i) is None
            assert math.isnan(batch.distance_m[i])
            continue
        assert batch.factory_id(i) == single.factory_id
        assert batch.distance_m[i] == pytest.approx(single.distance_m, rel=1e-12)
    assert sum(batch.counts().values()) == 300 - batch.unroutable.size
    assert batch.counts()["HZ-1"] > 0


def test_batch_raises_for_unroutable_points_by_default() -> None:
    router = Router([NINGBO, SUZHOU])
    with pytest.raises(
        GeoError, match=r"1 of 2 point\(s\) have no eligible factory; first is row 1"
    ):
        router.route_many([29.8, 45.8], [121.5, 126.5], "AP-10")
    marked = router.route_many([29.8, 45.8], [121.5, 126.5], "AP-10", unroutable="mark")
    assert marked.assigned() == ["SZ-2", None]
    assert marked.unroutable.tolist() == [1]


def test_batch_input_errors() -> None:
    router = Router(FACTORIES)
    with pytest.raises(InputError, match="got 1 product codes for 2 points"):
        router.route_many([29.8, 30.0], [121.5, 121.0], ["HV-200"])
    with pytest.raises(GeoError, match="row 1: latitude"):
        router.route_many([29.8, 130.0], [121.5, 121.0])
    with pytest.raises(GeoError, match="product code"):
        router.route_many([29.8], [121.5], [""])
    with pytest.raises(InputError, match="unroutable"):
        router.route_many([29.8], [121.5], unroutable="skip")  # type: ignore[arg-type]
    with pytest.raises(GeoError, match="row 1: position must be a LatLon"):
        router.route_positions([YINZHOU, (1, 2)])  # type: ignore[list-item]
    assert router.route_positions([YINZHOU]).assigned() == ["NB-1"]
    empty = router.route_many([], [])
    assert len(empty) == 0
    assert empty.counts() == {"NB-1": 0, "SZ-1": 0, "SZ-2": 0}


PRODUCTS = ("P1", "P2", "P3")


@st.composite
def factory_sets(draw: st.DrawFn) -> list[Factory]:
    n = draw(st.integers(1, 8))
    factories = []
    for i in range(n):
        products = draw(st.none() | st.frozensets(st.sampled_from(PRODUCTS), max_size=3))
        limit = draw(st.none() | st.floats(50_000, 3_000_000))
        factories.append(
            Factory(f"F{i}", draw(china_positions()), products=products, max_delivery_m=limit)
        )
    return draw(st.permutations(factories))


@settings(max_examples=200)
@given(factory_sets(), china_positions(), st.none() | st.sampled_from(PRODUCTS))
def test_router_picks_the_true_nearest_eligible_factory(
    factories: list[Factory], point: LatLon, product: str | None
) -> None:
    reference = {f.id: haversine_m(f.location, point) for f in factories}
    eligible = [
        f
        for f in factories
        if (product is None or f.products is None or product in f.products)
        and (f.max_delivery_m is None or reference[f.id] <= f.max_delivery_m)
    ]
    router = Router(factories)
    if not eligible:
        with pytest.raises(GeoError, match="no factory can take"):
            router.route(point, product)
        return
    best = min(reference[f.id] for f in eligible)
    route = router.route(point, product)
    assert route.factory_id in {f.id for f in eligible}
    assert reference[route.factory_id] <= best + 2 * TIE_RESOLUTION_M
    batch = router.route_many([point.lat], [point.lon], product)
    assert batch.assigned() == [route.factory_id]


@settings(max_examples=30)
@given(factory_sets(), st.integers(0, 2**32 - 1))
def test_batch_of_random_points_agrees_with_brute_force(
    factories: list[Factory], seed: int
) -> None:
    rng = np.random.default_rng(seed)
    lats = rng.uniform(18.0, 53.5, 200)
    lons = rng.uniform(73.5, 135.0, 200)
    batch = Router(factories).route_many(lats, lons, unroutable="mark")
    for i in range(200):
        point = LatLon(float(lats[i]), float(lons[i]))
        dist = {f.id: haversine_m(f.location, point) for f in factories}
        ok = [f.id for f in factories if f.max_delivery_m is None or dist[f.id] <= f.max_delivery_m]
        chosen = batch.factory_id(i)
        if chosen is None:
            assert not ok
        else:
            assert dist[chosen] <= min(dist[fid] for fid in ok) + 2 * TIE_RESOLUTION_M
