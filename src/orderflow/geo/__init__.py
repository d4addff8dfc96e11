"""Multi-factory geography (R10): geofences in metres, routing, geocoding, access scopes.

Each factory is its own data space. Orders are routed to the nearest factory
able to make the product (:class:`Router`), delivery addresses become
coordinates offline (:class:`TableGeocoder`), and an :class:`AccessPolicy`
refuses any access outside an actor's factories with
:class:`~orderflow.exceptions.AccessDenied`. Everything here is pure: no
network, no clock, no storage.
"""

from __future__ import annotations

from orderflow.geo.access import (
    DEFAULT_POLICY,
    AccessPolicy,
    Action,
    Actor,
    HasFactoryId,
    Membership,
    Role,
    check,
    readable,
    require_on_site,
)
from orderflow.geo.factory import Factory, FenceIndex, ServiceRegion
from orderflow.geo.fence import (
    DEFAULT_FENCE_RADIUS_M,
    MAX_FENCE_RADIUS_M,
    CircleFence,
    Geofence,
    PolygonFence,
)
from orderflow.geo.geocoder import Geocoded, Geocoder, Place, TableGeocoder, normalise_text
from orderflow.geo.geodesy import (
    EARTH_RADIUS_M,
    LatLon,
    LocalProjection,
    destination,
    geodesic_circle,
    great_circle_m,
    haversine_m,
)
from orderflow.geo.router import TIE_RESOLUTION_M, BatchRoutes, Candidate, Route, Router

__all__ = [
    "DEFAULT_FENCE_RADIUS_M",
    "DEFAULT_POLICY",
    "EARTH_RADIUS_M",
    "MAX_FENCE_RADIUS_M",
    "TIE_RESOLUTION_M",
    "AccessPolicy",
    "Action",
    "Actor",
    "BatchRoutes",
    "Candidate",
    "CircleFence",
    "Factory",
    "FenceIndex",
    "Geocoded",
    "Geocoder",
    "Geofence",
    "HasFactoryId",
    "LatLon",
    "LocalProjection",
    "Membership",
    "Place",
    "PolygonFence",
    "Role",
    "Route",
    "Router",
    "ServiceRegion",
    "TableGeocoder",
    "check",
    "destination",
    "geodesic_circle",
    "great_circle_m",
    "haversine_m",
    "normalise_text",
    "readable",
    "require_on_site",
]
