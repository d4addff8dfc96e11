"""Route orders to the nearest factory able to make the product (R10).

Distances are great-circle metres from the delivery point to each factory's
location. A factory is *eligible* for an order when it makes the product,
the point lies in one of its service regions (if it has any) and within its
``max_delivery_m`` (if set). The nearest eligible factory wins; factories
within :data:`TIE_RESOLUTION_M` (1 mm) of the nearest count as equally near
and the lowest factory id among them wins, so the answer never depends on
the order factories were given in. :meth:`Router.route` explains itself (distance and verdict per
candidate); :meth:`Router.route_many` routes many points at once with numpy.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Literal

import attrs
import numpy as np
import numpy.typing as npt

from orderflow.exceptions import GeoError, InputError
from orderflow.geo.factory import Factory, FenceIndex, normalise_product
from orderflow.geo.geodesy import (
    EARTH_RADIUS_M,
    LatLon,
    chord_to_metres,
    unit_vectors,
    validate_lat_lon_arrays,
)

__all__ = ["TIE_RESOLUTION_M", "BatchRoutes", "Candidate", "Route", "Router"]

#: Factories within this distance (1 mm) of the nearest one count as equally near;
#: the lowest factory id among them wins.
TIE_RESOLUTION_M = 0.001


def _metres_to_chord(metres: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Chord length between unit vectors for great-circle ``metres`` (inverse of haversine)."""
    half_angle = np.minimum(metres / (2 * EARTH_RADIUS_M), np.pi / 2)
    result: npt.NDArray[np.float64] = 2 * np.sin(half_angle)
    return result


def _km(metres: float) -> str:
    return f"{metres / 1000:.3f} km" if metres < 10_000 else f"{metres / 1000:,.1f} km"


@attrs.frozen
class Candidate:
    """One factory considered for an order: its distance and, if refused, why."""

    factory_id: str
    distance_m: float
    refusal: str | None = None

    @property
    def eligible(self) -> bool:
        """True if the factory could take the order."""
        return self.refusal is None


@attrs.frozen
class Route:
    """Where one order goes and why.

    ``candidates`` lists every factory: the eligible ones first, nearest
    first (ties by id), then the refused ones with their reason.
    ``tie`` is true when another eligible factory was equally near and the
    factory id decided.
    """

    position: LatLon
    product: str | None
    factory_id: str
    distance_m: float
    candidates: tuple[Candidate, ...]
    tie: bool = False

    def explain(self) -> str:
        """A plain-text explanation, one line per candidate."""
        what = f"product {self.product}" if self.product is not None else "any product"
        lines = [
            f"{what} at {self.position} -> factory {self.factory_id} "
            f"({_km(self.distance_m)}, nearest eligible"
            + (", tie broken by lowest factory id)" if self.tie else ")")
        ]
        for c in self.candidates:
            verdict = "eligible" if c.refusal is None else f"refused: {c.refusal}"
            mark = "*" if c.factory_id == self.factory_id else " "
            lines.append(f" {mark} {c.factory_id}: {_km(c.distance_m)}, {verdict}")
        return "\n".join(lines)


@attrs.frozen(eq=False)
class BatchRoutes:
    """The result of :meth:`Router.route_many`, as arrays aligned with the input points.

    ``factory_index[i]`` indexes :attr:`factory_ids` (``-1`` when point ``i``
    has no eligible factory, only with ``unroutable="mark"``);
    ``distance_m[i]`` is the distance to that factory (NaN when unroutable).
    """

    factory_ids: tuple[str, ...]
    factory_index: npt.NDArray[np.intp]
    distance_m: npt.NDArray[np.float64]

    def __len__(self) -> int:
        return int(self.factory_index.shape[0])

    def factory_id(self, i: int) -> str | None:
        """The factory id for point ``i`` (``None`` if unroutable)."""
        j = int(self.factory_index[i])
        return None if j < 0 else self.factory_ids[j]

    def assigned(self) -> list[str | None]:
        """Factory id per point, in input order (``None`` if unroutable)."""
        names: list[str | None] = [*self.factory_ids, None]
        return [names[j] for j in self.factory_index.tolist()]

    def counts(self) -> dict[str, int]:
        """How many points went to each factory (factories with none are included)."""
        routed = self.factory_index[self.factory_index >= 0]
        tally = np.bincount(routed, minlength=len(self.factory_ids))
        return {fid: int(n) for fid, n in zip(self.factory_ids, tally.tolist(), strict=True)}

    @property
    def unroutable(self) -> npt.NDArray[np.intp]:
        """Indices of the points no factory could take."""
        result: npt.NDArray[np.intp] = np.flatnonzero(self.factory_index < 0)
        return result


ProductSpec = str | Sequence[str | None] | None


class Router:
    """Assigns delivery points to factories (nearest eligible, deterministic ties).

    Raises :class:`~orderflow.exceptions.GeoError` when ``factories`` is empty
    or two factories share an id. The router is immutable; build a new one
    when the factory list changes.
    """

    __slots__ = (
        "_by_id",
        "_chord_limits",
        "_factories",
        "_fences",
        "_regional",
        "_xyz",
        "chunk_size",
    )

    def __init__(self, factories: Iterable[Factory], *, chunk_size: int = 4096) -> None:
        given = tuple(factories)
        if not given:
            raise GeoError("cannot route orders: no factories are configured")
        for f in given:
            if not isinstance(f, Factory):
                raise GeoError(f"the router needs Factory objects, got {f!r}")
        by_id: dict[str, Factory] = {}
        for f in given:
            if f.id in by_id:
                raise GeoError(f"two factories share the id {f.id!r}; factory ids must be unique")
            by_id[f.id] = f
        if chunk_size < 1:
            raise InputError(f"chunk_size must be at least 1, got {chunk_size}")
        self._factories = tuple(sorted(given, key=lambda f: f.id))
        self._by_id = by_id
        self._xyz = unit_vectors(
            [f.location.lat for f in self._factories], [f.location.lon for f in self._factories]
        )
        limits = np.array(
            [np.inf if f.max_delivery_m is None else f.max_delivery_m for f in self._factories]
        )
        self._chord_limits = np.where(np.isinf(limits), np.inf, _metres_to_chord(limits))
        self._regional = tuple(j for j, f in enumerate(self._factories) if f.service_regions)
        self._fences = FenceIndex(self._factories)
        self.chunk_size = chunk_size

    @property
    def factories(self) -> tuple[Factory, ...]:
        """The factories, sorted by id (the order used for tie-breaking)."""
        return self._factories

    def factory(self, factory_id: str) -> Factory:
        """The factory with this id; :class:`~orderflow.exceptions.GeoError` if unknown."""
        try:
            return self._by_id[factory_id]
        except KeyError:
            known = ", ".join(f.id for f in self._factories)
            raise GeoError(f"unknown factory {factory_id!r} (known: {known})") from None

    def factory_at(self, position: LatLon) -> Factory | None:
        """The factory whose geofence contains ``position`` (nearest if several), else ``None``."""
        inside = self._fences.locate(position)
        return inside[0] if inside else None

    # -- core -------------------------------------------------------------------------------

    def _chords(
        self, lat: npt.NDArray[np.float64], lon: npt.NDArray[np.float64]
    ) -> npt.NDArray[np.float64]:
        """``(n, F)`` chord lengths (unit sphere) from each point to each factory.

        Chords order exactly like great-circle distances and are cheaper; they
        are computed element-wise (no reductions), so a point's values do not
        depend on the batch it is in.
        """
        points = unit_vectors(lat, lon)
        dx = points[:, 0, None] - self._xyz[None, :, 0]
        dy = points[:, 1, None] - self._xyz[None, :, 1]
        dz = points[:, 2, None] - self._xyz[None, :, 2]
        result: npt.NDArray[np.float64] = np.sqrt(dx * dx + dy * dy + dz * dz)
        return result

    @staticmethod
    def _pick(
        chords: npt.NDArray[np.float64],
    ) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.float64]]:
        """Per row: lowest column within 1 mm of the nearest finite entry, and its metres.

        Columns are factories sorted by id, so the first qualifying column is
        the lowest id. Rows with no finite entry get ``-1`` and NaN.
        """
        rows = np.arange(chords.shape[0])
        nearest = np.min(chords, axis=1) if chords.shape[1] else np.full(len(rows), np.inf)
        routable = np.isfinite(nearest)
        nearest_m = chord_to_metres(np.where(routable, nearest, 0.0))
        threshold = _metres_to_chord(nearest_m + TIE_RESOLUTION_M)
        best: npt.NDArray[np.intp] = np.argmax(chords <= threshold[:, None], axis=1)
        best[~routable] = -1
        metres = chord_to_metres(chords[rows, np.maximum(best, 0)])
        return best, np.where(routable, metres, np.nan)

    def _product_groups(
        self, products: ProductSpec, n: int
    ) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.intp], list[str | None]]:
        """A ``(G, F)`` eligibility table per distinct product and each point's group."""
        if products is None or isinstance(products, str):
            codes: list[str | None] = [None if products is None else normalise_product(products)]
            group = np.zeros(n, dtype=np.intp)
        else:
            if len(products) != n:
                raise InputError(
                    f"got {len(products)} product codes for {n} points; give one per point"
                )
            by_raw: dict[str | None, int] = {}
            by_code: dict[str | None, int] = {}
            codes = []
            groups: list[int] = []
            for raw in products:
                try:
                    g = by_raw.get(raw)
                except TypeError:  # unhashable, so not a product code
                    normalise_product(raw)  # raises a clear GeoError
                    raise
                if g is None:
                    code = None if raw is None else normalise_product(raw)
                    g = by_code.get(code)
                    if g is None:
                        g = by_code[code] = len(codes)
                        codes.append(code)
                    by_raw[raw] = g
                groups.append(g)
            group = np.asarray(groups, dtype=np.intp)
        table = np.array([[f.makes(code) for f in self._factories] for code in codes], dtype=bool)
        return table, group, codes

    # -- public routing -----------------------------------------------------------------------

    def route(self, position: LatLon, product: str | None = None) -> Route:
        """Route one order at ``position`` for ``product`` (``None`` = any product).

        Raises :class:`~orderflow.exceptions.GeoError` listing every factory
        and why it was refused when none is eligible.
        """
        if not isinstance(position, LatLon):
            raise GeoError(f"position must be a LatLon, got {position!r}")
        code = None if product is None else normalise_product(product)
        chords = self._chords(np.array([position.lat]), np.array([position.lon]))
        dist = chord_to_metres(chords[0]).tolist()
        rows = [
            (f, d, f.refusal(position, code, d)) for f, d in zip(self._factories, dist, strict=True)
        ]
        eligible = sorted((r for r in rows if r[2] is None), key=lambda r: (r[1], r[0].id))
        refused = sorted((r for r in rows if r[2] is not None), key=lambda r: (r[1], r[0].id))
        if not eligible:
            what = f"product {code}" if code is not None else "this order"
            reasons = "; ".join(f"{f.id} ({_km(d)}) {why}" for f, d, why in refused)
            raise GeoError(f"no factory can take {what} at {position}: {reasons}")
        ok = np.array([r[2] is None for r in rows])
        best, _ = self._pick(np.where(ok, chords, np.inf))
        chosen = rows[int(best[0])]
        tied = [r for r in eligible if r[1] <= eligible[0][1] + TIE_RESOLUTION_M]
        ordered = [chosen, *(r for r in eligible if r is not chosen), *refused]
        candidates = tuple(Candidate(f.id, d, why) for f, d, why in ordered)
        tie = len(tied) > 1
        return Route(position, code, chosen[0].id, chosen[1], candidates, tie)

    def route_many(
        self,
        lat: npt.ArrayLike,
        lon: npt.ArrayLike,
        products: ProductSpec = None,
        *,
        unroutable: Literal["raise", "mark"] = "raise",
    ) -> BatchRoutes:
        """Route many points at once (vectorised; same answers as :meth:`route`).

        ``lat`` and ``lon`` are equal-length sequences of degrees. ``products``
        is ``None`` (any product), one code for every point, or one code (or
        ``None``) per point. If some point has no eligible factory,
        ``unroutable="raise"`` (the default) raises
        :class:`~orderflow.exceptions.GeoError` explaining the first such
        point; ``"mark"`` returns index ``-1`` and distance NaN for it.
        """
        if unroutable not in ("raise", "mark"):
            raise InputError(f"unroutable must be 'raise' or 'mark', got {unroutable!r}")
        lat_a, lon_a = validate_lat_lon_arrays(lat, lon)
        n = lat_a.shape[0]
        table, group, codes = self._product_groups(products, n)
        index = np.empty(n, dtype=np.intp)
        distance = np.empty(n, dtype=np.float64)
        for start in range(0, n, self.chunk_size):
            stop = min(n, start + self.chunk_size)
            la, lo = lat_a[start:stop], lon_a[start:stop]
            chords = self._chords(la, lo)
            ok = table[group[start:stop]]
            ok &= chords <= self._chord_limits[None, :]
            for j in self._regional:
                inside = np.zeros(stop - start, dtype=bool)
                for region in self._factories[j].service_regions:
                    inside |= region.contains_many(la, lo)
                ok[:, j] &= inside
            index[start:stop], distance[start:stop] = self._pick(np.where(ok, chords, np.inf))
        result = BatchRoutes(tuple(f.id for f in self._factories), index, distance)
        if unroutable == "raise":
            bad = result.unroutable
            if bad.size:
                i = int(bad[0])
                try:
                    self.route(LatLon(float(lat_a[i]), float(lon_a[i])), codes[int(group[i])])
                except GeoError as exc:
                    detail = str(exc)
                else:  # pragma: no cover - route() and route_many() agree by construction
                    detail = "route() found a factory; please report this inconsistency"
                raise GeoError(
                    f"{bad.size} of {n} point(s) have no eligible factory; first is row {i}: "
                    f"{detail}"
                )
        return result

    def route_positions(
        self,
        positions: Iterable[LatLon],
        products: ProductSpec = None,
        *,
        unroutable: Literal["raise", "mark"] = "raise",
    ) -> BatchRoutes:
        """:meth:`route_many` for a sequence of :class:`~orderflow.geo.geodesy.LatLon`."""
        points = list(positions)
        for i, p in enumerate(points):
            if not isinstance(p, LatLon):
                raise GeoError(f"row {i}: position must be a LatLon, got {p!r}")
        return self.route_many(
            [p.lat for p in points], [p.lon for p in points], products, unroutable=unroutable
        )
