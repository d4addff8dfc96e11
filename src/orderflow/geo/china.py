"""Offline geocoder for every county-level division of China, by adcode hierarchy (R10, R12).

:class:`ChinaGeocoder` knows the ~3,200 provinces, prefecture-level cities and
county-level divisions (districts, counties, county-level cities, banners) of the
bundled adcode table (``data/adcodes_cn.csv``, from the MIT-licensed ``cpca``
package; attribution in the file). An address resolves to the *deepest* division
it names, and names shared by several divisions (鼓楼区 exists in four cities) are
decided by the province or city the address also names::

    江苏省南京市鼓楼区中山路1号  -> 鼓楼区 (320106, Nanjing), level "district"
    福州鼓楼区                   -> 鼓楼区 (350102, Fuzhou)
    鼓楼区                       -> UnknownAddress: four places, none named

Names are recognised in full (``北仑区``); a shortened name (``北仑``, ``宁波``) only
at the start of the address or right after its parent (``宁波北仑``), because short
forms also occur inside street names (中山 in 中山路). ``finer`` (for example
:meth:`TableGeocoder.builtin`, with industrial parks and towns) is asked first
and wins when it places the address deeper than the division found, near it.
"""

from __future__ import annotations

import csv
import io
import re
from importlib import resources

import attrs

from orderflow.exceptions import InputError, UnknownAddress
from orderflow.geo.geocoder import Geocoded, Geocoder, normalise_text
from orderflow.geo.geodesy import LatLon, haversine_m

__all__ = ["CHINA_TABLE", "ChinaGeocoder", "Division"]

#: Package resource holding the adcode table.
CHINA_TABLE = "adcodes_cn.csv"

_PROVINCE_SUFFIX = re.compile(r"(省|市|壮族自治区|回族自治区|维吾尔自治区|自治区|特别行政区)$")
_CITY_SUFFIX = re.compile(r"(市|地区|盟|自治州)$")
_COUNTY_SUFFIX = re.compile(r"(区|县|市|旗|自治县|自治旗)$")
_MAX_NAME = 16
_RANK = {"province": 0, "city": 1, "county": 2, "district": 2, "town": 3, "site": 4}
# a finer table's place counts as inside the division when this close to its position
_FINER_RADIUS_M = {
    "province": 800_000.0,
    "city": 150_000.0,
    "county": 60_000.0,
    "district": 60_000.0,
}


@attrs.frozen
class Division:
    """One administrative division: 12-digit adcode, name, level and position."""

    adcode: str
    name: str
    level: str
    """``province``, ``city``, ``district`` (市辖区 names end in 区) or ``county``."""
    position: LatLon

    @property
    def province_code(self) -> str:
        """Adcode of the province this division belongs to."""
        return self.adcode[:2] + "0" * 10

    @property
    def city_code(self) -> str:
        """Adcode of the prefecture-level city (itself for a city or province)."""
        return self.adcode[:4] + "0" * 8


def _level(adcode: str, name: str) -> str:
    if adcode[2:] == "0" * 10:
        return "province"
    if adcode[4:] == "0" * 8:
        return "city"
    return "district" if name.endswith("区") else "county"


def _short(name: str, level: str) -> str | None:
    pattern = {"province": _PROVINCE_SUFFIX, "city": _CITY_SUFFIX}.get(level, _COUNTY_SUFFIX)
    short = pattern.sub("", name)
    # one-character stems (e.g. 县 of 和县) would match inside ordinary words
    return short if short != name and len(short) >= 2 else None


class ChinaGeocoder:
    """:class:`~orderflow.geo.geocoder.Geocoder` over China's county-level divisions."""

    __slots__ = ("_by_code", "_finer", "_names")

    def __init__(self, divisions: list[Division], finer: Geocoder | None = None) -> None:
        if not divisions:
            raise InputError("the division table is empty")
        self._by_code = {d.adcode: d for d in divisions}
        # name (matching form) -> divisions; short forms only for provinces and cities,
        # county short forms are checked in context (after their city) in geocode()
        self._names: dict[str, list[tuple[Division, bool]]] = {}
        for d in divisions:
            self._names.setdefault(normalise_text(d.name), []).append((d, True))
            short = _short(d.name, d.level)
            if short is not None:
                self._names.setdefault(normalise_text(short), []).append((d, False))
        self._finer = finer

    def __len__(self) -> int:
        return len(self._by_code)

    def division(self, adcode: str) -> Division:
        """The division with ``adcode`` (raises :class:`InputError` if unknown)."""
        try:
            return self._by_code[adcode]
        except KeyError:
            raise InputError(f"no division with adcode {adcode!r}") from None

    def _mentions(self, text: str) -> list[tuple[Division, int, int]]:
        found = []
        for start in range(len(text)):
            for end in range(start + 2, min(len(text), start + _MAX_NAME) + 1):
                for d, full in self._names.get(text[start:end], ()):
                    # a short form (中山, 北仑) also occurs inside street names (中山路), so it
                    # counts only at the start of the address or right after its parent
                    if full or start == 0 or self._after_parent(d, text, start):
                        found.append((d, start, end))
        return found

    def _after_parent(self, d: Division, text: str, start: int) -> bool:
        parent_code = d.province_code if d.level == "city" else d.city_code
        parent = self._by_code.get(parent_code)
        if parent is None or parent.adcode == d.adcode:
            return False
        forms = [normalise_text(parent.name)]
        short = _short(parent.name, parent.level)
        if short:
            forms.append(normalise_text(short))
        return any(text[:start].endswith(f) for f in forms)

    def _resolve(self, text: str) -> tuple[Division, str] | None:
        mentions = self._mentions(text)
        named = {d.adcode for d, _, _ in mentions}
        provinces = {d.adcode for d, _, _ in mentions if d.level == "province"}
        cities = {d.adcode for d, _, _ in mentions if d.level == "city"}
        for levels in (("district", "county"), ("city",), ("province",)):
            chosen: dict[str, tuple[int, int, Division, str]] = {}
            for d, start, end in mentions:
                if d.level not in levels:
                    continue
                support = (d.city_code in named and d.city_code != d.adcode) * 2 + (
                    d.province_code in named and d.province_code != d.adcode
                )
                conflict = (
                    cities
                    and d.level != "city"
                    and d.city_code not in cities
                    and d.city_code in self._by_code
                ) or (provinces and d.province_code not in provinces)
                if conflict and not support:
                    continue  # names a place in another city/province than the address
                key = (support, end - start, d, text[start:end])
                best = chosen.get(d.adcode)
                if best is None or key[:2] > best[:2]:
                    chosen[d.adcode] = key
            if not chosen:
                continue
            ranked = sorted(chosen.values(), key=lambda k: (-k[0], -k[1], k[2].adcode))
            top = ranked[0]
            rivals = [k for k in ranked[1:] if k[:2] == top[:2] and k[3] == top[3]]
            if rivals:
                continue  # same name, same support: ambiguous at this level, go coarser
            return top[2], top[3]
        return None

    def geocode(self, address: str) -> Geocoded:
        """The deepest division ``address`` names (see the module docs).

        Raises :class:`~orderflow.exceptions.UnknownAddress` when it names none
        unambiguously; there is never a default position.
        """
        if not isinstance(address, str):
            raise InputError(f"an address must be a string, got {address!r}")
        text = normalise_text(address)
        found = self._resolve(text) if text else None
        if found is None:
            raise UnknownAddress(address)
        division, matched = found
        if self._finer is not None:
            fine = self._finer_place(address, division)
            if fine is not None:
                return fine
        chain = [self._by_code.get(division.province_code), self._by_code.get(division.city_code)]
        names = [d.name for d in chain if d is not None and d.adcode != division.adcode]
        place = "".join(dict.fromkeys([*names, division.name]))
        return Geocoded(address, division.position, place, division.level, matched)

    def _finer_place(self, address: str, division: Division) -> Geocoded | None:
        assert self._finer is not None
        try:
            fine = self._finer.geocode(address)
        except UnknownAddress:
            return None
        deeper = _RANK.get(fine.level, 0) > _RANK[division.level]
        near = haversine_m(fine.position, division.position) <= _FINER_RADIUS_M[division.level]
        return fine if deeper and near else None

    @classmethod
    def builtin(cls, finer: Geocoder | None = None) -> ChinaGeocoder:
        """The bundled table of China's divisions (about 3,200 with coordinates)."""
        text = resources.files("orderflow.geo").joinpath("data", CHINA_TABLE).read_text("utf-8")
        lines = [ln for ln in io.StringIO(text) if ln.strip() and not ln.startswith("#")]
        divisions = []
        for lineno, row in enumerate(csv.DictReader(lines), start=2):
            try:
                lat, lon = float(row["latitude"]), float(row["longitude"])
            except (KeyError, ValueError):
                raise InputError(f"{CHINA_TABLE} row {lineno}: bad coordinates {row}") from None
            code, name = row["adcode"], row["name"]
            divisions.append(Division(code, name, _level(code, name), LatLon(lat, lon)))
        return cls(divisions, finer)
