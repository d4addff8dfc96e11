"""Typhoon-prone zones (R13 rule 3): the shipped, cited data file and its lookups.

``data/typhoon_zones.csv`` lists coastal prefecture-level cities of the provinces where
typhoons make landfall most often, with its source in its header. An address is in a
zone when it names a listed prefecture (resolved with the geo module's offline
:class:`~orderflow.geo.china.ChinaGeocoder`, so ``湛江霞山区`` and
``广东省湛江市...`` both count); a position is in a zone when it lies in the zone's
:class:`~orderflow.geo.CircleFence` (around the prefecture seat, an approximation of
the coastal core, not the boundary).
"""

from __future__ import annotations

import csv
import functools
import io
from collections.abc import Iterable, Iterator
from importlib import resources

import attrs

from orderflow.exceptions import InputError, UnknownAddress
from orderflow.geo.fence import CircleFence
from orderflow.geo.geocoder import Geocoder
from orderflow.geo.geodesy import LatLon

__all__ = ["ZONES_FILE", "TyphoonZone", "TyphoonZones"]

ZONES_FILE = "typhoon_zones.csv"
"""The package resource (in ``orderflow.risk/data``) with the shipped zones."""


@attrs.frozen
class TyphoonZone:
    """One typhoon-prone zone: a prefecture-level city and its geofence."""

    adcode: str
    name: str
    name_en: str
    province: str
    fence: CircleFence

    @property
    def label(self) -> str:
        """``湛江市 (Zhanjiang)``."""
        return f"{self.name} ({self.name_en})"


class TyphoonZones:
    """The zones, with lookups by address text and by position."""

    def __init__(self, zones: Iterable[TyphoonZone], geocoder: Geocoder | None = None) -> None:
        self.zones = tuple(zones)
        self._geocoder = geocoder
        self._by_name = {z.name: z for z in self.zones}

    def __len__(self) -> int:
        return len(self.zones)

    def __iter__(self) -> Iterator[TyphoonZone]:
        return iter(self.zones)

    @classmethod
    @functools.cache
    def builtin(cls) -> TyphoonZones:
        """The shipped zones (``data/typhoon_zones.csv``), loaded once."""
        text = resources.files("orderflow.risk").joinpath("data", ZONES_FILE).read_text("utf-8")
        return cls(_read(text, ZONES_FILE))

    @classmethod
    def from_csv(cls, path: str) -> TyphoonZones:
        """Zones from a CSV shaped like the shipped file (a plant's own list)."""
        try:
            with open(path, encoding="utf-8") as handle:
                return cls(_read(handle.read(), path))
        except OSError as exc:
            raise InputError(f"cannot read zone file {path}: {exc.strerror}") from None

    def _china(self) -> Geocoder:
        if self._geocoder is None:
            from orderflow.geo.china import ChinaGeocoder

            self._geocoder = ChinaGeocoder.builtin()
        return self._geocoder

    def zone_for_address(self, address: str) -> TyphoonZone | None:
        """The zone whose prefecture the address names, or ``None`` (also if unplaceable)."""
        if not address.strip() or not self.zones:
            return None
        return self._cached_zone(address)

    @functools.lru_cache(maxsize=4096)  # noqa: B019 - one instance per process, bounded
    def _cached_zone(self, address: str) -> TyphoonZone | None:
        try:
            place = self._china().geocode(address).place
        except (UnknownAddress, InputError):
            return None
        return next((z for name, z in self._by_name.items() if name in place), None)

    def zone_at(self, position: LatLon) -> TyphoonZone | None:
        """The zone whose geofence contains ``position``, if any."""
        return next((z for z in self.zones if z.fence.contains(position)), None)


def _read(text: str, source: str) -> list[TyphoonZone]:
    lines = [ln for ln in io.StringIO(text) if ln.strip() and not ln.startswith("#")]
    zones = []
    for lineno, row in enumerate(csv.DictReader(lines), start=2):
        try:
            centre = LatLon(float(row["latitude"]), float(row["longitude"]))
            fence = CircleFence(centre, float(row["radius_km"]) * 1000)
            zones.append(
                TyphoonZone(row["adcode"], row["name"], row["name_en"], row["province"], fence)
            )
        except (KeyError, ValueError, TypeError) as exc:
            raise InputError(f"zone file {source}, data row {lineno}: {exc}") from None
    return zones
