"""Typed wrappers around the few shapely 2 calls orderflow.geo uses.

shapely ships without complete type information, so every call goes through
a small function here whose signature mypy can check.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, TypeAlias

import numpy as np
import numpy.typing as npt
import shapely

Geometry: TypeAlias = Any  # a shapely geometry (untyped library)
Tree: TypeAlias = Any  # a shapely.STRtree
BoolArray = npt.NDArray[np.bool_]
IndexArray = npt.NDArray[np.intp]


def polygon(coords: Sequence[tuple[float, float]]) -> Geometry:
    """A polygon from ``(x, y)`` pairs (closed automatically)."""
    return shapely.Polygon(coords)


def validity_problem(geom: Geometry) -> str | None:
    """``None`` when ``geom`` is valid, else GEOS' ``is_valid_reason`` text."""
    if bool(shapely.is_valid(geom)):
        return None
    return str(shapely.is_valid_reason(geom))


_WHERE = re.compile(r"\[(\S+) (\S+)\]")


def split_reason(reason: str) -> tuple[str, tuple[float, float] | None]:
    """Split ``"Self-intersection[x y]"`` into the text and the ``(x, y)`` spot, if any."""
    match = _WHERE.search(reason)
    if match is None:
        return reason, None
    try:
        spot = float(match.group(1)), float(match.group(2))
    except ValueError:
        return reason, None
    return reason[: match.start()].rstrip(), spot


def prepare(geom: Geometry) -> None:
    """Prepare ``geom`` in place (spatial index on its edges) for fast predicates."""
    shapely.prepare(geom)


def area(geom: Geometry) -> float:
    """Planar area of ``geom`` in its own units squared."""
    return float(shapely.area(geom))


def covers_xy(geom: Geometry, x: float, y: float) -> bool:
    """True if the point lies inside ``geom`` or on its boundary."""
    return bool(shapely.intersects_xy(geom, x, y))


def covers_xy_many(geom: Geometry, x: npt.ArrayLike, y: npt.ArrayLike) -> BoolArray:
    """Vectorised :func:`covers_xy` (prepare ``geom`` first for speed)."""
    result: BoolArray = np.asarray(shapely.intersects_xy(geom, x, y), dtype=np.bool_)
    return result


def distance_to_xy(geom: Geometry, x: float, y: float) -> float:
    """Planar distance from the point to ``geom`` (0 inside)."""
    return float(shapely.distance(geom, shapely.Point(x, y)))


def boxes_tree(bounds: Sequence[tuple[float, float, float, float]]) -> Tree:
    """An STRtree over axis-aligned boxes ``(xmin, ymin, xmax, ymax)``."""
    return shapely.STRtree([shapely.box(*b) for b in bounds])


def tree_hits(tree: Tree, x: float, y: float) -> list[int]:
    """Indices of the tree's boxes that contain (or touch) the point ``(x, y)``."""
    hits = tree.query(shapely.Point(x, y), predicate="intersects")
    return sorted(int(i) for i in hits)


def bounds(geom: Geometry) -> tuple[float, float, float, float]:
    """``(xmin, ymin, xmax, ymax)`` of ``geom``."""
    xmin, ymin, xmax, ymax = (float(v) for v in shapely.bounds(geom))
    return xmin, ymin, xmax, ymax
