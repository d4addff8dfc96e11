"""Geofences in metres: circles, polygons, validity errors (R10)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from orderflow.exceptions import GeoError
from orderflow.geo import (
    DEFAULT_FENCE_RADIUS_M,
    CircleFence,
    LatLon,
    PolygonFence,
    destination,
    geodesic_circle,
    haversine_m,
)

from .strategies import china_positions

GATE = LatLon(29.8994, 121.8440)  # Beilun, Ningbo
M_PER_DEG = 111_195.0  # on the mean sphere; used only to draw test points near a centre


def _near(centre: LatLon, radius: float, fx: float, fy: float) -> LatLon:
    """A point within about 2 x radius of ``centre`` (an independent, rough construction)."""
    dlat = 2 * radius * fy / M_PER_DEG
    dlon = 2 * radius * fx / (M_PER_DEG * math.cos(math.radians(centre.lat)))
    return LatLon(centre.lat + dlat, centre.lon + dlon)


unit = st.floats(-1.0, 1.0)


@given(china_positions(), st.floats(1.0, 50_000.0), unit, unit)
def test_point_inside_circle_fence_is_within_radius(
    centre: LatLon, radius: float, fx: float, fy: float
) -> None:
    fence = CircleFence(centre, radius)
    p = _near(centre, radius, fx, fy)
    reference = haversine_m(centre, p)
    if fence.contains(p):
        assert reference <= radius * 1.005
    if reference <= radius * 0.995:
        assert fence.contains(p)
    if reference >= radius * 1.005:
        assert not fence.contains(p)
        assert fence.distance_outside_m(p) == pytest.approx(reference - radius, rel=0.005)


@given(china_positions(), st.floats(20.0, 20_000.0), unit, unit)
def test_point_inside_polygon_fence_is_within_its_circumradius(
    centre: LatLon, radius: float, fx: float, fy: float
) -> None:
    fence = PolygonFence(geodesic_circle(centre, radius, segments=32))
    p = _near(centre, radius, fx, fy)
    reference = haversine_m(centre, p)
    if fence.contains(p):
        assert reference <= radius * 1.005
        assert fence.distance_outside_m(p) == 0.0
    # the 32-gon's inscribed circle has radius r * cos(pi / 32)
    if reference <= radius * math.cos(math.pi / 32) * 0.995:
        assert fence.contains(p)
    if reference >= radius * 1.005:
        assert not fence.contains(p)
        assert fence.distance_outside_m(p) > 0.0


def test_default_radius_is_the_seed_500_m() -> None:
    fence = CircleFence(GATE)
    assert fence.radius_m == DEFAULT_FENCE_RADIUS_M == 500.0
    assert fence.contains(destination(GATE, 77.0, 499.0))
    assert fence.contains(destination(GATE, 77.0, 500.0))
    outside = destination(GATE, 77.0, 501.0)
    assert not fence.contains(outside)
    assert fence.distance_outside_m(outside) == pytest.approx(1.0, abs=1e-6)


@pytest.mark.parametrize(
    ("radius", "fragment"),
    [
        (-1.0, "positive"),
        (0.0, "positive"),
        (math.nan, "positive"),
        (math.inf, "positive"),
        (250_000.0, "larger than 100000 m"),
        ("500", "number of metres"),
    ],
)
def test_circle_rejects_bad_radius(radius: object, fragment: str) -> None:
    with pytest.raises(GeoError, match=fragment):
        CircleFence(GATE, radius)


def test_circle_bounds_contain_its_outline() -> None:
    fence = CircleFence(LatLon(45.8, 126.5), 5_000)
    lon_min, lat_min, lon_max, lat_max = fence.lonlat_bounds()
    for v in fence.outline(256):
        assert lon_min <= v.lon <= lon_max
        assert lat_min <= v.lat <= lat_max
    # and is not absurdly large: 5 km is about 0.045 deg of latitude
    assert lat_max - lat_min == pytest.approx(2 * 5_000 / M_PER_DEG, rel=0.05)


def _square(centre: LatLon, half_side_m: float) -> list[LatLon]:
    return [destination(centre, b, half_side_m * math.sqrt(2)) for b in (45, 135, 225, 315)]


def test_polygon_fence_contains_and_measures_in_metres() -> None:
    fence = PolygonFence(_square(GATE, 300.0))
    assert fence.area_m2 == pytest.approx(600.0 * 600.0, rel=0.001)
    assert fence.contains(GATE)
    assert fence.contains(destination(GATE, 0.0, 299.0))
    north = destination(GATE, 0.0, 400.0)
    assert not fence.contains(north)
    assert fence.distance_outside_m(north) == pytest.approx(100.0, abs=0.5)
    assert haversine_m(fence.centre, GATE) < 0.01


def test_polygon_fence_accepts_a_closed_ring() -> None:
    corners = _square(GATE, 100.0)
    assert PolygonFence([*corners, corners[0]]) == PolygonFence(corners)


def test_bow_tie_polygon_is_refused_with_geos_reason_and_position() -> None:
    a, b, c, d = _square(GATE, 200.0)
    with pytest.raises(GeoError, match=r"not valid: Self-intersection at \(29\.89") as info:
        PolygonFence([a, c, b, d])
    assert "without the edges crossing" in str(info.value)


@pytest.mark.parametrize(
    "vertices",
    [[], [GATE], [GATE, destination(GATE, 0, 100)], [GATE, GATE, GATE, GATE]],
)
def test_polygon_needs_three_distinct_vertices(vertices: list[LatLon]) -> None:
    with pytest.raises(GeoError, match="at least 3 distinct vertices"):
        PolygonFence(vertices)


def test_collinear_polygon_is_refused() -> None:
    line = [destination(GATE, 90.0, d) for d in (0.0, 100.0, 200.0)]
    with pytest.raises(GeoError, match=r"not valid|no area"):
        PolygonFence(line)


def test_polygon_vertices_must_be_latlon() -> None:
    with pytest.raises(GeoError, match="vertex 1 must be a LatLon"):
        PolygonFence([GATE, (29.9, 121.85), GATE])


def test_huge_polygon_is_refused() -> None:
    far = [LatLon(20, 100), LatLon(20, 120), LatLon(40, 120), LatLon(40, 100)]
    with pytest.raises(GeoError, match="premises"):
        PolygonFence(far)


@given(china_positions(), st.floats(50.0, 5_000.0))
def test_polygon_bounds_contain_the_fence(centre: LatLon, radius: float) -> None:
    fence = PolygonFence(geodesic_circle(centre, radius, 12))
    lon_min, lat_min, lon_max, lat_max = fence.lonlat_bounds()
    for bearing in range(0, 360, 15):
        p = destination(centre, bearing, radius * 0.9)
        assert fence.contains(p)
        assert lon_min <= p.lon <= lon_max
        assert lat_min <= p.lat <= lat_max
