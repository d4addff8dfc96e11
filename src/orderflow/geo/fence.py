"""Geofences: the premises of a factory as a circle or a polygon, measured in metres (R10).

A fence answers two questions for a GPS fix: is it inside (boundary
included), and if not, how many metres outside. A circle is checked with
the exact great-circle distance from its centre; a polygon is drawn in an
azimuthal-equidistant plane centred on its own vertices
(:class:`~orderflow.geo.geodesy.LocalProjection`), validated by GEOS and
prepared once for fast point tests.
"""

from __future__ import annotations

import math
from typing import Any, TypeAlias

import attrs

from orderflow.exceptions import GeoError
from orderflow.geo import _shapely
from orderflow.geo.geodesy import (
    EARTH_RADIUS_M,
    LatLon,
    LocalProjection,
    centroid_of,
    geodesic_circle,
    haversine_m,
)

__all__ = [
    "DEFAULT_FENCE_RADIUS_M",
    "MAX_FENCE_RADIUS_M",
    "CircleFence",
    "Geofence",
    "PolygonFence",
]

#: The seed's geofence radius (R10): 500 metres around the factory.
DEFAULT_FENCE_RADIUS_M = 500.0

#: A geofence describes premises, not a sales region; anything larger than this
#: (100 km) is almost certainly a unit mistake and is refused.
MAX_FENCE_RADIUS_M = 100_000.0

Bounds: TypeAlias = tuple[float, float, float, float]


def _radius(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise GeoError(f"geofence radius must be a number of metres, got {value!r}")
    radius = float(value)
    if not math.isfinite(radius) or radius <= 0:
        raise GeoError(f"geofence radius must be a positive number of metres, got {radius!r}")
    if radius > MAX_FENCE_RADIUS_M:
        raise GeoError(
            f"geofence radius {radius:g} m is larger than {MAX_FENCE_RADIUS_M:g} m; a fence "
            "covers the factory premises (is the value in metres?)"
        )
    return radius


def _with_margin(lon_min: float, lat_min: float, lon_max: float, lat_max: float) -> Bounds:
    margin_lon = 0.01 * (lon_max - lon_min) + 1e-6
    margin_lat = 0.01 * (lat_max - lat_min) + 1e-6
    lat_min, lat_max = max(-90.0, lat_min - margin_lat), min(90.0, lat_max + margin_lat)
    lon_min, lon_max = lon_min - margin_lon, lon_max + margin_lon
    if lon_min < -180.0 or lon_max > 180.0:  # crosses the antimeridian: be conservative
        lon_min, lon_max = -180.0, 180.0
    return lon_min, lat_min, lon_max, lat_max


@attrs.frozen
class CircleFence:
    """Every point within ``radius_m`` metres (great-circle) of ``centre``.

    The default radius is the seed's 500 m. A radius that is not a positive
    finite number of metres, or above :data:`MAX_FENCE_RADIUS_M`, raises
    :class:`~orderflow.exceptions.GeoError`.
    """

    centre: LatLon
    radius_m: float = attrs.field(default=DEFAULT_FENCE_RADIUS_M, converter=_radius)

    def distance_from_centre_m(self, p: LatLon) -> float:
        """Great-circle metres from the centre to ``p``."""
        return haversine_m(self.centre, p)

    def contains(self, p: LatLon) -> bool:
        """True if ``p`` is inside the fence or on its edge."""
        return self.distance_from_centre_m(p) <= self.radius_m

    def distance_outside_m(self, p: LatLon) -> float:
        """Metres from ``p`` to the fence edge; ``0.0`` when inside."""
        return max(0.0, self.distance_from_centre_m(p) - self.radius_m)

    def outline(self, segments: int = 64) -> tuple[LatLon, ...]:
        """Vertices on the circle (for maps and exports), clockwise from north."""
        return geodesic_circle(self.centre, self.radius_m, segments)

    def lonlat_bounds(self) -> Bounds:
        """A ``(lon_min, lat_min, lon_max, lat_max)`` box that surely contains the fence."""
        delta = self.radius_m / EARTH_RADIUS_M
        phi0 = math.radians(self.centre.lat)
        lat_min = self.centre.lat - math.degrees(delta)
        lat_max = self.centre.lat + math.degrees(delta)
        if math.cos(phi0) <= math.sin(delta):  # the circle contains a pole
            return _with_margin(-180.0, lat_min, 180.0, lat_max)
        dlon = math.degrees(math.asin(math.sin(delta) / math.cos(phi0)))
        return _with_margin(self.centre.lon - dlon, lat_min, self.centre.lon + dlon, lat_max)


def _vertices(value: Any) -> tuple[LatLon, ...]:
    try:
        points = tuple(value)
    except TypeError as exc:
        raise GeoError(f"geofence vertices must be a sequence of LatLon, got {value!r}") from exc
    for i, p in enumerate(points):
        if not isinstance(p, LatLon):
            raise GeoError(f"geofence vertex {i} must be a LatLon, got {p!r}")
    if len(points) > 1 and points[0] == points[-1]:
        points = points[:-1]  # an explicitly closed ring
    return points


def _located(reason: str, projection: LocalProjection) -> str:
    """GEOS reports the faulty spot in local metres; say it in latitude/longitude."""
    text, spot = _shapely.split_reason(reason)
    if spot is None:
        return reason
    try:
        return f"{text} at {projection.inverse(*spot)}"
    except GeoError:
        return reason


@attrs.frozen
class PolygonFence:
    """The premises as a polygon of WGS84 vertices (in order around the site, not closed).

    Raises :class:`~orderflow.exceptions.GeoError` if there are fewer than 3
    distinct vertices, if the ring crosses itself or is otherwise invalid
    (the GEOS ``is_valid_reason`` is quoted), or if a vertex lies more than
    :data:`MAX_FENCE_RADIUS_M` from the polygon's centre. Edges are straight
    lines in the fence's local metric plane.
    """

    vertices: tuple[LatLon, ...] = attrs.field(converter=_vertices)
    _projection: LocalProjection = attrs.field(init=False, eq=False, repr=False)
    _local: _shapely.Geometry = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        if len(set(self.vertices)) < 3:
            raise GeoError(
                f"a polygon geofence needs at least 3 distinct vertices, got {len(self.vertices)}"
            )
        projection = LocalProjection(centroid_of(self.vertices))
        for i, p in enumerate(self.vertices):
            if haversine_m(projection.centre, p) > MAX_FENCE_RADIUS_M:
                raise GeoError(
                    f"geofence vertex {i} {p} is more than {MAX_FENCE_RADIUS_M:g} m from the "
                    "centre of the polygon; a fence covers the factory premises"
                )
        local = _shapely.polygon([projection.forward(p) for p in self.vertices])
        problem = _shapely.validity_problem(local)
        if problem is not None:
            raise GeoError(
                f"geofence polygon is not valid: {_located(problem, projection)}; "
                "list the corners once, in order around the site, without the edges crossing"
            )
        if _shapely.area(local) < 1.0:
            raise GeoError(
                "geofence polygon has (almost) no area: under 1 m² (all corners on one line?)"
            )
        _shapely.prepare(local)
        object.__setattr__(self, "_projection", projection)
        object.__setattr__(self, "_local", local)

    @property
    def centre(self) -> LatLon:
        """The spherical centroid of the vertices (origin of the local plane)."""
        return self._projection.centre

    @property
    def area_m2(self) -> float:
        """Area of the premises in square metres."""
        return _shapely.area(self._local)

    def distance_from_centre_m(self, p: LatLon) -> float:
        """Great-circle metres from :attr:`centre` to ``p``."""
        return haversine_m(self.centre, p)

    def contains(self, p: LatLon) -> bool:
        """True if ``p`` is inside the polygon or on its edge."""
        x, y = self._projection.forward(p)
        return _shapely.covers_xy(self._local, x, y)

    def distance_outside_m(self, p: LatLon) -> float:
        """Metres from ``p`` to the nearest polygon edge; ``0.0`` when inside."""
        x, y = self._projection.forward(p)
        return _shapely.distance_to_xy(self._local, x, y)

    def outline(self, segments: int = 64) -> tuple[LatLon, ...]:
        """The vertices (``segments`` is ignored; present for symmetry with circles)."""
        del segments
        return self.vertices

    def lonlat_bounds(self) -> Bounds:
        """A ``(lon_min, lat_min, lon_max, lat_max)`` box that surely contains the fence."""
        lons = [p.lon for p in self.vertices]
        lats = [p.lat for p in self.vertices]
        if max(lons) - min(lons) > 180.0:  # crosses the antimeridian
            return _with_margin(-180.0, min(lats), 180.0, max(lats))
        return _with_margin(min(lons), min(lats), max(lons), max(lats))


#: Either kind of fence; both offer ``contains``, ``distance_outside_m``,
#: ``distance_from_centre_m``, ``outline`` and ``lonlat_bounds``.
Geofence: TypeAlias = CircleFence | PolygonFence
