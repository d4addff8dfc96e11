"""Positions, great-circle distances and the local metric projection (R10)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from orderflow.exceptions import GeoError, OrderflowError
from orderflow.geo import (
    EARTH_RADIUS_M,
    LatLon,
    LocalProjection,
    destination,
    geodesic_circle,
    great_circle_m,
    haversine_m,
)
from orderflow.geo.geodesy import validate_lat_lon_arrays

from .strategies import china_positions

BEIJING = LatLon(39.9042, 116.4074)
SHANGHAI = LatLon(31.2304, 121.4737)


@pytest.mark.parametrize(
    ("lat", "lon", "fragment"),
    [
        (90.5, 120.0, "latitude 90.5 is outside [-90, 90]"),
        (-91, 120.0, "latitude"),
        (30.0, 181.0, "longitude 181.0 is outside [-180, 180]"),
        (math.nan, 120.0, "finite"),
        (30.0, math.inf, "finite"),
        ("29.8", 121.5, "must be a number"),
        (True, 121.5, "must be a number"),
    ],
)
def test_latlon_rejects_bad_coordinates(lat: object, lon: object, fragment: str) -> None:
    with pytest.raises(GeoError, match=fragment.replace("[", r"\[").replace("]", r"\]")):
        LatLon(lat, lon)


def test_latlon_errors_are_orderflow_errors_and_hint_at_swaps() -> None:
    with pytest.raises(OrderflowError, match="swapped"):
        LatLon(121.5, 29.8)


def test_latlon_accepts_ints_and_numpy_floats() -> None:
    p = LatLon(30, np.float64(120.5))
    assert p == LatLon(30.0, 120.5)
    assert isinstance(p.lon, float)
    assert str(p) == "(30.000000, 120.500000)"


def test_one_degree_of_latitude_is_a_360th_of_the_meridian() -> None:
    expected = 2 * math.pi * EARTH_RADIUS_M / 360
    assert haversine_m(LatLon(30, 120), LatLon(31, 120)) == pytest.approx(expected, rel=1e-12)


def test_longitude_degrees_shrink_with_latitude() -> None:
    # the degrees-as-metres mistake would make these equal
    at_sanya = haversine_m(LatLon(18.25, 109.0), LatLon(18.25, 110.0))
    at_harbin = haversine_m(LatLon(45.8, 126.0), LatLon(45.8, 127.0))
    assert at_sanya == pytest.approx(105_600, rel=0.01)
    assert at_harbin == pytest.approx(77_500, rel=0.01)


def test_beijing_shanghai_distance() -> None:
    # published great-circle distance between the city centres: about 1,068 km
    assert haversine_m(BEIJING, SHANGHAI) == pytest.approx(1_067_000, rel=0.005)


def test_vectorised_distance_matches_scalar() -> None:
    lats = np.array([BEIJING.lat, 22.5431, 18.25])
    lons = np.array([BEIJING.lon, 114.0579, 109.51])
    got = great_circle_m(lats, lons, SHANGHAI.lat, SHANGHAI.lon)
    want = [haversine_m(LatLon(a, b), SHANGHAI) for a, b in zip(lats, lons, strict=True)]
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_validate_arrays_names_first_bad_row() -> None:
    with pytest.raises(GeoError, match=r"row 2: latitude nan .*2 bad row"):
        validate_lat_lon_arrays([30.0, 31.0, math.nan, 95.0], [120.0, 121.0, 122.0, 123.0])
    with pytest.raises(GeoError, match="same length"):
        validate_lat_lon_arrays([30.0, 31.0], [120.0])
    with pytest.raises(GeoError, match="longitude"):
        validate_lat_lon_arrays([30.0], [200.0])


@given(china_positions(), st.floats(0, 360), st.floats(0, 200_000))
def test_destination_lands_at_the_requested_distance(
    origin: LatLon, bearing: float, distance: float
) -> None:
    target = destination(origin, bearing, distance)
    assert haversine_m(origin, target) == pytest.approx(distance, rel=1e-9, abs=1e-6)


def test_destination_rejects_negative_distance() -> None:
    with pytest.raises(GeoError, match="distance"):
        destination(BEIJING, 0.0, -1.0)


def test_destination_wraps_the_antimeridian() -> None:
    east = destination(LatLon(0.0, 179.9), 90.0, 50_000)
    assert -180.0 <= east.lon < -179.0


@given(china_positions(), st.floats(1.0, 100_000.0))
def test_geodesic_circle_vertices_are_at_the_radius(centre: LatLon, radius: float) -> None:
    for vertex in geodesic_circle(centre, radius, segments=16):
        assert haversine_m(centre, vertex) == pytest.approx(radius, rel=1e-9, abs=1e-6)


@pytest.mark.parametrize(("radius", "segments"), [(-5.0, 64), (0.0, 64), (100.0, 4)])
def test_geodesic_circle_rejects_bad_arguments(radius: float, segments: int) -> None:
    with pytest.raises(GeoError):
        geodesic_circle(BEIJING, radius, segments)


@given(china_positions(), st.floats(-60_000, 60_000), st.floats(-60_000, 60_000))
def test_local_projection_is_distance_preserving_from_its_centre(
    centre: LatLon, x: float, y: float
) -> None:
    projection = LocalProjection(centre)
    p = projection.inverse(x, y)
    assert haversine_m(centre, p) == pytest.approx(math.hypot(x, y), rel=1e-9, abs=1e-6)
    back = projection.forward(p)
    assert back == pytest.approx((x, y), abs=1e-5)


@given(china_positions(), china_positions())
def test_local_projection_arrays_match_scalar(centre: LatLon, p: LatLon) -> None:
    projection = LocalProjection(centre)
    xs, ys = projection.forward_arrays([p.lat], [p.lon])
    assert (float(xs[0]), float(ys[0])) == pytest.approx(projection.forward(p), abs=1e-6)


def test_local_projection_keeps_short_lengths_true() -> None:
    # two points 1 km apart, 20 km from the centre: planar distance ~= true distance
    projection = LocalProjection(LatLon(29.9, 121.85))
    a = destination(LatLon(29.9, 121.85), 45.0, 20_000)
    b = destination(a, 120.0, 1_000)
    (ax, ay), (bx, by) = projection.forward(a), projection.forward(b)
    assert math.hypot(bx - ax, by - ay) == pytest.approx(1_000, rel=1e-4)


def test_local_projection_centre_maps_to_origin_and_back() -> None:
    projection = LocalProjection(SHANGHAI)
    assert projection.forward(SHANGHAI) == (0.0, 0.0)
    assert projection.inverse(0.0, 0.0) == SHANGHAI
    with pytest.raises(GeoError, match="finite"):
        projection.inverse(math.nan, 0.0)
