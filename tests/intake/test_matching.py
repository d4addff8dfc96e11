"""Buyer -> customer and model -> product matching, with candidates and scores."""

from __future__ import annotations

from orderflow.domain.master import Customer, Product
from orderflow.intake.matching import match_customer, match_product

CUSTOMERS = [
    Customer("C1", "宁波华东阀门有限公司"),
    Customer("C2", "宁波华东机械有限公司"),
    Customer("C3", "杭州恒达流体设备有限公司"),
]
PRODUCTS = [Product("HV-012", "valve 12"), Product("HV-013", "valve 13"), Product("AP-10", "pump")]


def test_exact_customer() -> None:
    m = match_customer("宁波华东阀门有限公司", CUSTOMERS)
    assert m.chosen == "C1"
    assert m.exact
    assert m.candidates[0].score == 1.0


def test_legal_form_does_not_decide_the_match() -> None:
    m = match_customer("宁波华东阀门股份有限公司", CUSTOMERS)
    assert m.chosen == "C1"
    assert m.exact


def test_one_misread_character_is_a_fuzzy_match_with_candidates() -> None:
    m = match_customer("杭州恒达流休设备有限公司", CUSTOMERS)
    assert m.chosen == "C3"
    assert not m.exact
    assert m.candidates[0].key == "C3"
    assert 0.85 <= m.candidates[0].score < 1


def test_unknown_buyer_is_not_matched() -> None:
    m = match_customer("上海新亚暖通有限公司", CUSTOMERS)
    assert m.chosen is None
    assert len(m.candidates) == 3


def test_model_with_ocr_confusion_matches_exactly() -> None:
    assert match_product("HV-O12", PRODUCTS).chosen == "HV-012"
    assert match_product("hv一012", PRODUCTS).exact


def test_close_models_are_not_chosen_when_ambiguous() -> None:
    m = match_product("HV-014", PRODUCTS)
    assert m.chosen is None  # HV-012 and HV-013 score the same
    assert {c.key for c in m.candidates[:2]} == {"HV-012", "HV-013"}


def test_product_name_instead_of_code() -> None:
    assert match_product("pump", PRODUCTS).chosen == "AP-10"
