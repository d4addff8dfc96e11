"""The all-China division geocoder: deepest level named, shared names decided by context."""

from __future__ import annotations

import time

import pytest

from orderflow.exceptions import UnknownAddress
from orderflow.geo import TableGeocoder
from orderflow.geo.china import ChinaGeocoder
from orderflow.geo.geodesy import haversine_m


@pytest.fixture(scope="module")
def china() -> ChinaGeocoder:
    return ChinaGeocoder.builtin()


def test_covers_every_county_level_division(china: ChinaGeocoder) -> None:
    assert len(china) > 3_000
    assert china.division("330206000000").name == "北仑区"


@pytest.mark.parametrize(
    ("address", "adcode", "level"),
    [
        ("浙江省宁波市北仑区新碶街道明州路88号", "330206000000", "district"),
        ("江苏省南京市鼓楼区中山路1号", "320106000000", "district"),
        ("福州鼓楼区东街口", "350102000000", "district"),
        ("吉林省长春市朝阳区人民大街", "220104000000", "district"),
        ("北京市朝阳区建国路", "110105000000", "district"),
        ("宁波北仑明州路", "330206000000", "district"),
        ("甘肃省酒泉市玉门市老市区", "620981000000", "county"),
        ("四川省成都市高新区天府大道", "510100000000", "city"),
        ("广东省", "440000000000", "province"),
    ],
)
def test_deepest_level_named(china: ChinaGeocoder, address: str, adcode: str, level: str) -> None:
    got = china.geocode(address)
    assert (got.level, got.position) == (level, china.division(adcode).position)


def test_place_names_the_chain(china: ChinaGeocoder) -> None:
    assert china.geocode("宁波市北仑区明州路").place == "浙江省宁波市北仑区"


def test_shared_name_without_context_is_refused(china: ChinaGeocoder) -> None:
    with pytest.raises(UnknownAddress):
        china.geocode("鼓楼区中山路1号")


def test_no_place_is_refused(china: ChinaGeocoder) -> None:
    with pytest.raises(UnknownAddress):
        china.geocode("火星基地1号")


def test_finer_table_wins_inside_the_county() -> None:
    china = ChinaGeocoder.builtin(finer=TableGeocoder.builtin())
    got = china.geocode("江苏省苏州市苏州工业园区星湖街")
    assert got.place == "苏州工业园区"


def test_agrees_with_the_sample_table(china: ChinaGeocoder) -> None:
    table = TableGeocoder.builtin()
    refused = []
    for place in table.places:
        if place.level not in ("district", "county"):
            continue
        try:
            got = china.geocode(place.name)
        except UnknownAddress:
            refused.append(place.name)
            continue
        assert haversine_m(got.position, place.position) < 30_000, place.name
    # only names several divisions share, which need their city in front
    assert refused == ["南山区"]
    assert china.geocode("深圳市南山区").place == "广东省深圳市南山区"


def test_fast_enough_for_a_batch(china: ChinaGeocoder) -> None:
    started = time.perf_counter()
    for _ in range(200):
        china.geocode("广东省深圳市宝安区福永街道凤凰第一工业区")
    assert time.perf_counter() - started < 2.0
