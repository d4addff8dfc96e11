"""Factories (each its own data space, R10), their service regions and a fence index.

A :class:`Factory` has an id, a location, a geofence (default: the seed's
500 m circle around the location), the products it can make (``None`` = no
restriction), optional service regions and an optional maximum delivery
distance. :class:`FenceIndex` finds whose premises a GPS fix is on, using an
STRtree over the fences' bounding boxes and then the exact metric test.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import attrs
import numpy as np
import numpy.typing as npt

from orderflow.exceptions import GeoError
from orderflow.geo import _shapely
from orderflow.geo.fence import MAX_FENCE_RADIUS_M, CircleFence, Geofence, PolygonFence
from orderflow.geo.geodesy import LatLon, geodesic_circle, haversine_m

__all__ = ["Factory", "FenceIndex", "ServiceRegion", "normalise_product"]


def _name(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise GeoError(f"a name must be a non-empty string, got {value!r}")
    return value.strip()


def _factory_id(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise GeoError(f"a factory id must be a non-empty string, got {value!r}")
    return value.strip()


def normalise_product(code: Any) -> str:
    """A product code with surrounding whitespace removed (codes are case-sensitive).

    Raises :class:`~orderflow.exceptions.GeoError` for empty or non-string codes.
    """
    if not isinstance(code, str) or not code.strip():
        raise GeoError(f"a product code must be a non-empty string, got {code!r}")
    return code.strip()


def _products(value: Any) -> frozenset[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        raise GeoError(
            f"products must be a collection of product codes, got the single string {value!r} "
            "(write products={" + repr(value) + "})"
        )
    return frozenset(normalise_product(code) for code in value)


def _region_vertices(value: Any) -> tuple[LatLon, ...]:
    points = tuple(value)
    for i, p in enumerate(points):
        if not isinstance(p, LatLon):
            raise GeoError(f"service region vertex {i} must be a LatLon, got {p!r}")
    if len(points) > 1 and points[0] == points[-1]:
        points = points[:-1]
    return points


def _lonlat_located(reason: str) -> str:
    """GEOS reports the faulty spot as ``[lon lat]``; say it as ``(lat, lon)``."""
    text, spot = _shapely.split_reason(reason)
    if spot is None:
        return reason
    lon, lat = spot
    return f"{text} at ({lat:.6f}, {lon:.6f})"


@attrs.frozen
class ServiceRegion:
    """An area a factory delivers to, as WGS84 vertices (in order, not closed).

    Containment is tested in the longitude/latitude plane, edge included, so
    a region may be as large as a province. Use :meth:`circle` for "within
    N km of a point" regions. An invalid polygon raises
    :class:`~orderflow.exceptions.GeoError` quoting GEOS' ``is_valid_reason``.
    """

    name: str = attrs.field(converter=_name)
    vertices: tuple[LatLon, ...] = attrs.field(converter=_region_vertices)
    _geom: _shapely.Geometry = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        if len(set(self.vertices)) < 3:
            raise GeoError(
                f"service region {self.name!r} needs at least 3 distinct vertices, "
                f"got {len(self.vertices)}"
            )
        geom = _shapely.polygon([(p.lon, p.lat) for p in self.vertices])
        problem = _shapely.validity_problem(geom)
        if problem is not None:
            raise GeoError(
                f"service region {self.name!r} is not a valid polygon: "
                f"{_lonlat_located(problem)}; list the corners once, in order around the "
                "region, without the edges crossing"
            )
        if _shapely.area(geom) <= 0.0:
            raise GeoError(f"service region {self.name!r} has no area")
        _shapely.prepare(geom)
        object.__setattr__(self, "_geom", geom)

    @classmethod
    def circle(
        cls, name: str, centre: LatLon, radius_m: float, segments: int = 64
    ) -> ServiceRegion:
        """The region within ``radius_m`` metres of ``centre`` (a metric buffer)."""
        return cls(name, geodesic_circle(centre, radius_m, segments))

    def contains(self, p: LatLon) -> bool:
        """True if ``p`` is inside the region or on its edge."""
        return _shapely.covers_xy(self._geom, p.lon, p.lat)

    def contains_many(
        self, lat: npt.NDArray[np.float64], lon: npt.NDArray[np.float64]
    ) -> npt.NDArray[np.bool_]:
        """Vectorised :meth:`contains` over validated latitude/longitude arrays."""
        return _shapely.covers_xy_many(self._geom, lon, lat)


def _max_delivery(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise GeoError(f"max_delivery_m must be a number of metres or None, got {value!r}")
    number = float(value)
    if not math.isfinite(number) or number <= 0:
        raise GeoError(f"max_delivery_m must be a positive number of metres, got {number!r}")
    return number


def _regions(value: Any) -> tuple[ServiceRegion, ...]:
    regions = tuple(value)
    for r in regions:
        if not isinstance(r, ServiceRegion):
            raise GeoError(f"service_regions must hold ServiceRegion objects, got {r!r}")
    return regions


def _default_fence(factory: Factory) -> Geofence:
    return CircleFence(factory.location)


def _check_fence(instance: Factory, attribute: attrs.Attribute[Geofence], value: Any) -> None:
    del attribute
    if not isinstance(value, CircleFence | PolygonFence):
        raise GeoError(
            f"factory {instance.id!r}: fence must be a CircleFence or PolygonFence, got {value!r}"
        )
    gap = haversine_m(instance.location, value.centre)
    if gap > MAX_FENCE_RADIUS_M:
        raise GeoError(
            f"factory {instance.id!r}: its geofence is centred {gap / 1000:.1f} km from its "
            "location; check the coordinates (latitude and longitude swapped?)"
        )


def _check_location(instance: Factory, attribute: attrs.Attribute[LatLon], value: Any) -> None:
    del attribute
    if not isinstance(value, LatLon):
        raise GeoError(f"factory {instance.id!r}: location must be a LatLon, got {value!r}")


@attrs.frozen
class Factory:
    """A production site: its own data space, a location and a geofence (R10).

    ``products=None`` means the factory can make any product; otherwise it is
    the set of product codes it makes. If ``service_regions`` is not empty,
    the factory only serves delivery points inside one of them; if
    ``max_delivery_m`` is set, only points within that many metres.
    """

    id: str = attrs.field(converter=_factory_id)
    location: LatLon = attrs.field(validator=_check_location)
    name: str = ""
    fence: Geofence = attrs.field(
        default=attrs.Factory(_default_fence, takes_self=True), validator=_check_fence
    )
    products: frozenset[str] | None = attrs.field(default=None, converter=_products)
    service_regions: tuple[ServiceRegion, ...] = attrs.field(default=(), converter=_regions)
    max_delivery_m: float | None = attrs.field(default=None, converter=_max_delivery)

    def makes(self, product: str | None) -> bool:
        """True if the factory can make ``product`` (``None`` = any product)."""
        if product is None or self.products is None:
            return True
        return normalise_product(product) in self.products

    def serves(self, p: LatLon) -> bool:
        """True if ``p`` lies in one of the service regions (or there are none)."""
        return not self.service_regions or any(r.contains(p) for r in self.service_regions)

    def refusal(self, p: LatLon, product: str | None, distance_m: float) -> str | None:
        """Why this factory cannot take an order for ``product`` at ``p``; ``None`` if it can.

        ``distance_m`` is the great-circle distance from the factory to ``p``.
        """
        if not self.makes(product):
            return f"does not make product {product}"
        if not self.serves(p):
            names = ", ".join(r.name for r in self.service_regions)
            return f"outside its service regions ({names})"
        if self.max_delivery_m is not None and distance_m > self.max_delivery_m:
            return f"beyond its delivery limit of {self.max_delivery_m / 1000:g} km"
        return None

    def on_premises(self, p: LatLon) -> bool:
        """True if ``p`` is inside this factory's geofence."""
        return self.fence.contains(p)


class FenceIndex:
    """Which factories' premises contain a GPS fix (an STRtree over fence boxes).

    The tree narrows the candidates by bounding box; each candidate's fence
    then gives the exact metric answer.
    """

    __slots__ = ("_factories", "_tree")

    def __init__(self, factories: Iterable[Factory]) -> None:
        self._factories = tuple(sorted(factories, key=lambda f: f.id))
        self._tree = (
            _shapely.boxes_tree([f.fence.lonlat_bounds() for f in self._factories])
            if self._factories
            else None
        )

    def locate(self, p: LatLon) -> tuple[Factory, ...]:
        """Factories whose fence contains ``p``, nearest location first (then by id)."""
        if self._tree is None:
            return ()
        hits = [self._factories[i] for i in _shapely.tree_hits(self._tree, p.lon, p.lat)]
        inside = [f for f in hits if f.fence.contains(p)]
        return tuple(sorted(inside, key=lambda f: (haversine_m(f.location, p), f.id)))
