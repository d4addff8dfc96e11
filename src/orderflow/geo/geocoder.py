"""Delivery address -> coordinates: the :class:`Geocoder` port and an offline table adapter (R10).

:class:`TableGeocoder` needs no network: it reads a CSV of place names
(cities, districts, industrial parks) with coordinates and answers with the
*longest* known name contained in the address, after normalising both
(Unicode NFKC, which also turns full-width letters, digits and spaces into
ordinary ones; all whitespace removed; case folded). An address that
contains no known name raises :class:`~orderflow.exceptions.UnknownAddress`;
there is never a silent default position.

CSV format (UTF-8, ``#`` lines are comments, one header row)::

    name,level,lat,lon,aliases
    北仑区,district,29.8994,121.8440,北仑|Beilun

``level`` is one of :data:`LEVELS`; when two names of the same length
match, the finer level wins (``宁波市北仑区`` -> 北仑区, not 宁波市), then the
one later in the address.

The built-in table is a small sample (about 50 places, kept for tests and
examples); for delivery addresses anywhere in China use
:class:`orderflow.geo.china.ChinaGeocoder`, which knows every county-level
division and can consult a table like this one for finer places.
"""

from __future__ import annotations

import csv
import io
import os
import unicodedata
from collections.abc import Iterable
from importlib import resources
from typing import Any, Protocol, TextIO, runtime_checkable

import attrs

from orderflow.exceptions import GeoError, InputError, UnknownAddress
from orderflow.geo.geodesy import LatLon

__all__ = [
    "BUILTIN_TABLE",
    "LEVELS",
    "Geocoded",
    "Geocoder",
    "Place",
    "TableGeocoder",
    "normalise_text",
]

#: Place levels from coarse to fine; a finer level wins a tie on name length.
LEVELS: tuple[str, ...] = ("city", "county", "district", "town", "site")

#: Package resource holding the sample table of Chinese places.
BUILTIN_TABLE = "places_cn.csv"

_LEVEL_RANK = {"city": 0, "county": 1, "district": 1, "town": 2, "site": 3}
_COLUMNS = ("name", "level", "lat", "lon", "aliases")


def normalise_text(text: str) -> str:
    """The matching form of a name or address: NFKC, no whitespace, case folded.

    NFKC maps full-width forms (``Ｎｉｎｇｂｏ``, ``１２３``, the ideographic
    space) to their ordinary forms and composes accents like NFC.
    """
    return "".join(unicodedata.normalize("NFKC", text).split()).casefold()


@attrs.frozen
class Geocoded:
    """A geocoding answer: the position and which known place produced it."""

    address: str
    position: LatLon
    place: str
    level: str
    matched: str


@runtime_checkable
class Geocoder(Protocol):
    """Port: turn a delivery address into coordinates.

    Implementations raise :class:`~orderflow.exceptions.UnknownAddress` when
    they cannot place an address, never a default position.
    """

    def geocode(self, address: str) -> Geocoded:
        """Coordinates for ``address``."""
        ...


def _level(value: Any) -> str:
    if value not in _LEVEL_RANK:
        raise InputError(f"place level must be one of {', '.join(LEVELS)}; got {value!r}")
    return str(value)


def _text(value: Any) -> str:
    if not isinstance(value, str) or not normalise_text(value):
        raise InputError(f"a place name must be a non-empty string, got {value!r}")
    return value.strip()


def _aliases(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        raise InputError(f"aliases must be a sequence of names, got the string {value!r}")
    return tuple(_text(a) for a in value)


@attrs.frozen
class Place:
    """A known place: canonical name, level, position and alternative names."""

    name: str = attrs.field(converter=_text)
    position: LatLon
    level: str = attrs.field(default="city", converter=_level)
    aliases: tuple[str, ...] = attrs.field(default=(), converter=_aliases)


class TableGeocoder:
    """Offline geocoder over a table of :class:`Place` rows (see the module docs).

    Raises :class:`~orderflow.exceptions.InputError` if the table is empty or
    a name (after normalisation) belongs to two places; qualify such names
    (``北京市朝阳区`` and ``长春市朝阳区``).
    """

    __slots__ = ("_keys", "_places")

    def __init__(self, places: Iterable[Place]) -> None:
        self._places = tuple(places)
        if not self._places:
            raise InputError("the geocoder table is empty; it needs at least one place")
        owner: dict[str, Place] = {}
        for place in self._places:
            if not isinstance(place, Place):
                raise InputError(f"geocoder rows must be Place objects, got {place!r}")
            for name in (place.name, *place.aliases):
                key = normalise_text(name)
                other = owner.get(key)
                if other is not None and other != place:
                    raise InputError(
                        f"place name {name!r} is used by both {other.name} {other.position} "
                        f"and {place.name} {place.position}; make it unique (e.g. add the "
                        "city in front)"
                    )
                owner[key] = place
        # longest first, so the scan can stop early once shorter keys cannot win
        self._keys = sorted(owner.items(), key=lambda kv: -len(kv[0]))

    @property
    def places(self) -> tuple[Place, ...]:
        """The table rows, in the order given."""
        return self._places

    def __len__(self) -> int:
        return len(self._places)

    def geocode(self, address: str) -> Geocoded:
        """Position of the longest known place name contained in ``address``.

        Raises :class:`~orderflow.exceptions.UnknownAddress` when no known
        name occurs in the address (or it is blank).
        """
        if not isinstance(address, str):
            raise InputError(f"an address must be a string, got {address!r}")
        text = normalise_text(address)
        if not text:
            raise UnknownAddress(address)
        best: tuple[int, int, int] | None = None
        best_place: Place | None = None
        best_key = ""
        for key, place in self._keys:
            if best is not None and len(key) < best[0]:
                break
            at = text.rfind(key)
            if at < 0:
                continue
            rank = (len(key), _LEVEL_RANK[place.level], at)
            if best is None or rank > best:
                best, best_place, best_key = rank, place, key
        if best_place is None:
            raise UnknownAddress(address)
        return Geocoded(address, best_place.position, best_place.name, best_place.level, best_key)

    @classmethod
    def from_csv(cls, source: str | os.PathLike[str] | TextIO) -> TableGeocoder:
        """Load a table from a CSV path or open text file (format in the module docs).

        Raises :class:`~orderflow.exceptions.InputError` naming the line of any
        bad row.
        """
        if isinstance(source, str | os.PathLike):
            with open(source, encoding="utf-8-sig", newline="") as handle:
                return cls(_read_places(handle, str(source)))
        return cls(_read_places(source, getattr(source, "name", "<csv>")))

    @classmethod
    def builtin(cls) -> TableGeocoder:
        """The sample table shipped with orderflow (about 50 Chinese cities and districts)."""
        text = resources.files("orderflow.geo").joinpath("data", BUILTIN_TABLE).read_text("utf-8")
        return cls(_read_places(io.StringIO(text), BUILTIN_TABLE))


def _read_places(handle: TextIO, label: str) -> list[Place]:
    places: list[Place] = []
    seen: dict[str, tuple[int, Place]] = {}
    header: list[str] | None = None
    for lineno, line in enumerate(handle, start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        cells = [c.strip() for c in next(csv.reader([line]))]
        if header is None:
            header = [c.lower() for c in cells]
            missing = [c for c in _COLUMNS[:4] if c not in header]
            if missing:
                raise InputError(
                    f"{label} line {lineno}: header lacks column(s) {', '.join(missing)}; "
                    f"expected {','.join(_COLUMNS)}"
                )
            continue
        row = dict(zip(header, cells, strict=False))
        try:
            lat_text, lon_text = row.get("lat", ""), row.get("lon", "")
            try:
                lat, lon = float(lat_text), float(lon_text)
            except ValueError:
                raise InputError(
                    f"latitude/longitude must be numbers, got {lat_text!r}, {lon_text!r}"
                ) from None
            aliases = [a for a in row.get("aliases", "").split("|") if a.strip()]
            place = Place(
                row.get("name", ""), LatLon(lat, lon), row.get("level") or "city", aliases
            )
        except (InputError, GeoError) as exc:
            raise InputError(f"{label} line {lineno}: {exc}") from exc
        for name in (place.name, *place.aliases):
            first = seen.setdefault(normalise_text(name), (lineno, place))
            if first[1] != place:
                raise InputError(
                    f"{label} line {lineno}: place name {name!r} is already used on line "
                    f"{first[0]} ({first[1].name}); make it unique (e.g. add the city in front)"
                )
        places.append(place)
    return places
