"""Positions and distances on the Earth, in metres (R10).

Everything in :mod:`orderflow.geo` measures on a sphere of radius
:data:`EARTH_RADIUS_M` (the IUGG mean radius of the WGS84 ellipsoid):

* :func:`haversine_m` and :func:`great_circle_m` give great-circle distances;
* :class:`LocalProjection` is an azimuthal-equidistant projection centred on a
  point (a factory), in which the distance from the centre is exactly the
  great-circle distance and shapes within tens of kilometres keep their size
  to better than 0.01 %;
* :func:`destination` and :func:`geodesic_circle` build metric buffers
  ("every point 500 m from the gate") as latitude/longitude vertices.

Compared with the WGS84 ellipsoid a sphere is off by at most about 0.5 % in
China (largest in the far south, north-south direction), i.e. 2.5 m on a
500 m geofence: far below GPS error, and the same for every factory, so
routing comparisons are unaffected. Degrees are never used as metres.
"""

from __future__ import annotations

import math
from typing import Any

import attrs
import numpy as np
import numpy.typing as npt

from orderflow.exceptions import GeoError

__all__ = [
    "EARTH_RADIUS_M",
    "LatLon",
    "LocalProjection",
    "destination",
    "geodesic_circle",
    "great_circle_m",
    "haversine_m",
    "validate_lat_lon_arrays",
]

#: Mean Earth radius R1 = (2a + b) / 3 of the WGS84 ellipsoid, in metres.
EARTH_RADIUS_M = 6_371_008.8

FloatArray = npt.NDArray[np.float64]


def _coordinate(value: Any, what: str, limit: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.floating | np.integer):
        raise GeoError(f"{what} must be a number of degrees, got {value!r}")
    number = float(value)
    if not math.isfinite(number):
        raise GeoError(f"{what} must be a finite number of degrees, got {number!r}")
    if not -limit <= number <= limit:
        raise GeoError(
            f"{what} {number!r} is outside [-{limit:g}, {limit:g}] degrees "
            "(are latitude and longitude swapped?)"
        )
    return number


def _lat(value: Any) -> float:
    return _coordinate(value, "latitude", 90.0)


def _lon(value: Any) -> float:
    return _coordinate(value, "longitude", 180.0)


@attrs.frozen
class LatLon:
    """A WGS84 position in decimal degrees (latitude first, as GPS shows it).

    Raises :class:`~orderflow.exceptions.GeoError` for NaN, infinities,
    non-numbers, a latitude outside [-90, 90] or a longitude outside
    [-180, 180].
    """

    lat: float = attrs.field(converter=_lat)
    lon: float = attrs.field(converter=_lon)

    def __str__(self) -> str:
        return f"({self.lat:.6f}, {self.lon:.6f})"


def haversine_m(a: LatLon, b: LatLon) -> float:
    """Great-circle distance between two positions in metres (haversine formula)."""
    phi1 = math.radians(a.lat)
    phi2 = math.radians(b.lat)
    dphi = phi2 - phi1
    dlam = math.radians(b.lon - a.lon)
    h = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlam / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def great_circle_m(
    lat1: npt.ArrayLike, lon1: npt.ArrayLike, lat2: npt.ArrayLike, lon2: npt.ArrayLike
) -> FloatArray:
    """Vectorised haversine distance in metres; inputs broadcast like numpy arrays.

    Inputs are not range-checked here; use :func:`validate_lat_lon_arrays`
    first on untrusted data.
    """
    phi1 = np.radians(np.asarray(lat1, dtype=np.float64))
    phi2 = np.radians(np.asarray(lat2, dtype=np.float64))
    dlam = np.radians(np.asarray(lon2, dtype=np.float64) - np.asarray(lon1, dtype=np.float64))
    h = np.sin((phi2 - phi1) / 2) ** 2 + np.cos(phi1) * np.cos(phi2) * np.sin(dlam / 2) ** 2
    result: FloatArray = 2 * EARTH_RADIUS_M * np.arcsin(np.minimum(1.0, np.sqrt(h)))
    return result


def validate_lat_lon_arrays(
    lat: npt.ArrayLike, lon: npt.ArrayLike
) -> tuple[FloatArray, FloatArray]:
    """Check arrays of latitudes and longitudes; return them as 1-D float64 arrays.

    Raises :class:`~orderflow.exceptions.GeoError` naming the first bad row
    (shape mismatch, NaN/infinite, or out of range).
    """
    try:
        lat_a = np.atleast_1d(np.asarray(lat, dtype=np.float64))
        lon_a = np.atleast_1d(np.asarray(lon, dtype=np.float64))
    except (TypeError, ValueError) as exc:
        raise GeoError(f"latitudes and longitudes must be numbers: {exc}") from exc
    if lat_a.ndim != 1 or lon_a.shape != lat_a.shape:
        raise GeoError(
            "latitudes and longitudes must be two 1-D sequences of the same length, "
            f"got shapes {lat_a.shape} and {lon_a.shape}"
        )
    for values, what, limit in ((lat_a, "latitude", 90.0), (lon_a, "longitude", 180.0)):
        bad = ~(np.isfinite(values) & (np.abs(values) <= limit))
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise GeoError(
                f"row {i}: {what} {float(values[i])!r} is not a finite number in "
                f"[-{limit:g}, {limit:g}] degrees ({int(bad.sum())} bad row(s) in total)"
            )
    return lat_a, lon_a


def _wrap_lon(lon: float) -> float:
    wrapped = (lon + 180.0) % 360.0 - 180.0
    return 180.0 if wrapped == -180.0 and lon > 0 else wrapped


def destination(origin: LatLon, bearing_deg: float, distance_m: float) -> LatLon:
    """The position ``distance_m`` metres from ``origin`` along initial bearing ``bearing_deg``.

    Bearings are clockwise from true north. ``distance_m`` must be finite and
    not negative.
    """
    if not math.isfinite(distance_m) or distance_m < 0:
        raise GeoError(f"distance must be a finite number of metres >= 0, got {distance_m!r}")
    if not math.isfinite(bearing_deg):
        raise GeoError(f"bearing must be a finite number of degrees, got {bearing_deg!r}")
    delta = distance_m / EARTH_RADIUS_M
    theta = math.radians(bearing_deg)
    phi1 = math.radians(origin.lat)
    lam1 = math.radians(origin.lon)
    sin_phi2 = math.sin(phi1) * math.cos(delta) + math.cos(phi1) * math.sin(delta) * math.cos(theta)
    phi2 = math.asin(max(-1.0, min(1.0, sin_phi2)))
    lam2 = lam1 + math.atan2(
        math.sin(theta) * math.sin(delta) * math.cos(phi1),
        math.cos(delta) - math.sin(phi1) * sin_phi2,
    )
    return LatLon(math.degrees(phi2), _wrap_lon(math.degrees(lam2)))


def geodesic_circle(centre: LatLon, radius_m: float, segments: int = 64) -> tuple[LatLon, ...]:
    """``segments`` vertices exactly ``radius_m`` metres (great-circle) from ``centre``.

    The polygon through them is the metric buffer of ``centre``, expressed in
    latitude/longitude. Vertices run clockwise starting due north.
    """
    if segments < 8:
        raise GeoError(f"a circle needs at least 8 segments, got {segments}")
    if not math.isfinite(radius_m) or radius_m <= 0:
        raise GeoError(f"radius must be a finite number of metres > 0, got {radius_m!r}")
    return tuple(destination(centre, 360.0 * i / segments, radius_m) for i in range(segments))


@attrs.frozen
class LocalProjection:
    """Azimuthal-equidistant projection centred on ``centre``, in metres.

    ``x`` points east and ``y`` north. The distance of a projected point from
    the origin equals its great-circle distance from ``centre`` exactly, and
    lengths elsewhere are stretched by ``c / sin(c)`` (``c`` the angular
    distance): less than 1e-7 at 5 km and 1e-5 at 50 km. This is the
    "local metric plane" each factory's geofence is drawn in.
    """

    centre: LatLon

    def forward(self, p: LatLon) -> tuple[float, float]:
        """Project ``p`` to ``(x, y)`` metres east/north of the centre."""
        phi0 = math.radians(self.centre.lat)
        phi = math.radians(p.lat)
        dlam = math.radians(p.lon - self.centre.lon)
        h = (
            math.sin((phi - phi0) / 2) ** 2
            + math.cos(phi0) * math.cos(phi) * math.sin(dlam / 2) ** 2
        )
        c = 2 * math.asin(min(1.0, math.sqrt(h)))
        if c == 0.0:
            return 0.0, 0.0
        if math.pi - c < 1e-9:
            raise GeoError(f"{p} is antipodal to the projection centre {self.centre}")
        k = c / math.sin(c)
        x = k * math.cos(phi) * math.sin(dlam)
        y = k * (math.cos(phi0) * math.sin(phi) - math.sin(phi0) * math.cos(phi) * math.cos(dlam))
        return EARTH_RADIUS_M * x, EARTH_RADIUS_M * y

    def inverse(self, x: float, y: float) -> LatLon:
        """The position ``x`` metres east and ``y`` metres north of the centre."""
        if not (math.isfinite(x) and math.isfinite(y)):
            raise GeoError(f"projected coordinates must be finite, got ({x!r}, {y!r})")
        rho = math.hypot(x, y)
        if rho == 0.0:
            return self.centre
        return destination(self.centre, math.degrees(math.atan2(x, y)), rho)

    def forward_arrays(
        self, lat: npt.ArrayLike, lon: npt.ArrayLike
    ) -> tuple[FloatArray, FloatArray]:
        """Vectorised :meth:`forward` for validated latitude/longitude arrays."""
        phi0 = math.radians(self.centre.lat)
        phi = np.radians(np.asarray(lat, dtype=np.float64))
        dlam = np.radians(np.asarray(lon, dtype=np.float64) - self.centre.lon)
        h = np.sin((phi - phi0) / 2) ** 2 + math.cos(phi0) * np.cos(phi) * np.sin(dlam / 2) ** 2
        c = 2 * np.arcsin(np.minimum(1.0, np.sqrt(h)))
        sin_c = np.sin(c)
        k = np.divide(c, sin_c, out=np.ones_like(c), where=sin_c > 1e-15)
        x: FloatArray = EARTH_RADIUS_M * k * np.cos(phi) * np.sin(dlam)
        y: FloatArray = (
            EARTH_RADIUS_M
            * k
            * (math.cos(phi0) * np.sin(phi) - math.sin(phi0) * np.cos(phi) * np.cos(dlam))
        )
        return x, y


def centroid_of(points: tuple[LatLon, ...]) -> LatLon:
    """The spherical centroid (normalised mean unit vector) of ``points``."""
    xs = ys = zs = 0.0
    for p in points:
        phi = math.radians(p.lat)
        lam = math.radians(p.lon)
        xs += math.cos(phi) * math.cos(lam)
        ys += math.cos(phi) * math.sin(lam)
        zs += math.sin(phi)
    norm = math.sqrt(xs * xs + ys * ys + zs * zs)
    if norm < 1e-12:
        raise GeoError("points are spread around the whole globe; they have no centre")
    return LatLon(math.degrees(math.asin(zs / norm)), math.degrees(math.atan2(ys, xs)))


def unit_vectors(lat: npt.ArrayLike, lon: npt.ArrayLike) -> FloatArray:
    """Positions as an ``(n, 3)`` array of unit vectors (Earth-centred)."""
    phi = np.radians(np.asarray(lat, dtype=np.float64))
    lam = np.radians(np.asarray(lon, dtype=np.float64))
    cos_phi = np.cos(phi)
    result: FloatArray = np.stack(
        [cos_phi * np.cos(lam), cos_phi * np.sin(lam), np.sin(phi)], axis=-1
    )
    return result


def chord_to_metres(chord: FloatArray) -> FloatArray:
    """Great-circle metres from chord lengths between unit vectors (same as haversine)."""
    result: FloatArray = 2 * EARTH_RADIUS_M * np.arcsin(np.minimum(1.0, chord / 2))
    return result
