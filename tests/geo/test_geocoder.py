"""Offline geocoding of delivery addresses (R10)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from orderflow.exceptions import InputError, UnknownAddress
from orderflow.geo import Geocoder, LatLon, Place, TableGeocoder, haversine_m, normalise_text


@pytest.fixture(scope="module")
def builtin() -> TableGeocoder:
    return TableGeocoder.builtin()


def test_builtin_table_has_real_places(builtin: TableGeocoder) -> None:
    assert len(builtin) >= 30
    names = {p.name for p in builtin.places}
    assert {"北仑区", "鄞州区", "深圳市", "苏州市", "苏州工业园区"} <= names
    # every row lies in or near China
    for place in builtin.places:
        assert 18 <= place.position.lat <= 54
        assert 73 <= place.position.lon <= 135
    assert isinstance(builtin, Geocoder)


@pytest.mark.parametrize(
    ("address", "place"),
    [
        ("浙江省宁波市北仑区新碶街道明州路 88 号", "北仑区"),
        ("宁波市鄞州区首南街道", "鄞州区"),
        ("宁波市某某路 1 号", "宁波市"),
        ("江苏省苏州工业园区星湖街 328 号", "苏州工业园区"),
        ("江苏省苏州市姑苏区", "苏州市"),
        ("广东省深圳市龙岗区坂田", "龙岗区"),
        ("上海市浦东新区张江", "浦东新区"),
        ("Beilun District, Ningbo", "北仑区"),
    ],
)
def test_longest_known_name_wins(builtin: TableGeocoder, address: str, place: str) -> None:
    result = builtin.geocode(address)
    assert result.place == place
    assert result.address == address
    expected = next(p for p in builtin.places if p.name == place)
    assert result.position == expected.position


def test_full_width_and_spacing_do_not_matter(builtin: TableGeocoder) -> None:
    plain = builtin.geocode("宁波市北仑区")
    assert builtin.geocode("　宁波市 北 仑 区　").position == plain.position
    assert builtin.geocode("ＢＥＩＬＵＮ， ＮＩＮＧＢＯ").place == "北仑区"
    assert normalise_text("Ｎｉｎｇｂｏ　１２３") == "ningbo123"


@pytest.mark.parametrize("address", ["火星基地 1 号", "", "   ", "Springfield"])
def test_unknown_addresses_raise_never_default(builtin: TableGeocoder, address: str) -> None:
    with pytest.raises(UnknownAddress) as info:
        builtin.geocode(address)
    assert info.value.address == address
    assert "add it to the geocoder table" in str(info.value)


def test_geocode_rejects_non_strings(builtin: TableGeocoder) -> None:
    with pytest.raises(InputError, match="must be a string"):
        builtin.geocode(None)  # type: ignore[arg-type]


def test_same_length_tie_prefers_finer_level_then_later_position() -> None:
    table = TableGeocoder(
        [
            Place("甲市", LatLon(30, 120), "city"),
            Place("乙区", LatLon(31, 121), "district"),
            Place("丙市", LatLon(32, 122), "city"),
        ]
    )
    assert table.geocode("甲市乙区").place == "乙区"
    assert table.geocode("乙区甲市").place == "乙区"
    assert table.geocode("甲市丙市").place == "丙市"


def test_csv_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "places.csv"
    path.write_text(
        "# my plants\nname,level,lat,lon,aliases\n厂区A,site,29.9,121.8,A区|Plant A\n",
        encoding="utf-8",
    )
    table = TableGeocoder.from_csv(path)
    assert table.geocode("送到 plant a 门卫").position == LatLon(29.9, 121.8)
    assert table.geocode("A区").level == "site"


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("name,lat,lon\n", "lacks column"),
        ("name,level,lat,lon\n", "empty"),
        ("name,level,lat,lon\nX,city,abc,120\n", "line 2: latitude/longitude must be numbers"),
        ("name,level,lat,lon\nX,city,95,120\n", "line 2: latitude 95.0 is outside"),
        ("name,level,lat,lon\nX,planet,30,120\n", "line 2: place level must be one of"),
        ("name,level,lat,lon\n,city,30,120\n", "line 2: a place name must be"),
        (
            "name,level,lat,lon,aliases\n朝阳区,district,39.9,116.4,\n#\n朝阳区,district,43.8,125.3,\n",
            r"line 4: .*already used on line 2",
        ),
    ],
)
def test_bad_csv_rows_name_the_line(text: str, fragment: str) -> None:
    with pytest.raises(InputError, match=fragment):
        TableGeocoder.from_csv(io.StringIO(text))


@given(st.sampled_from(TableGeocoder.builtin().places), st.text(max_size=8), st.text(max_size=8))
def test_any_address_containing_a_place_geocodes_near_it(
    place: Place, before: str, after: str
) -> None:
    table = TableGeocoder.builtin()
    try:
        result = table.geocode(f"{before}{place.name}{after}")
    except UnknownAddress:  # pragma: no cover - impossible: the name is in the address
        pytest.fail("a known place name was not found")
    # the surrounding text may name a longer place; otherwise it is this one
    if result.place != place.name:
        assert len(result.matched) >= len(normalise_text(place.name))
    else:
        assert haversine_m(result.position, place.position) == 0.0
