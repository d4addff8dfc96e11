"""Every public value type round-trips through JSON (cattrs converter)."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from orderflow import serialization
from orderflow.domain import (
    BomLine,
    Component,
    Customer,
    InboundPO,
    Order,
    OrderLine,
    OrderNumber,
    Product,
    StockPosition,
)
from orderflow.policy import Policy, parse_policy, policy_document
from orderflow.testing.strategies import scenarios
from orderflow.workflow import (
    DEFAULT_DEFINITION,
    Facts,
    definition_document,
    parse_definition,
)

TYPES = [
    Customer,
    Component,
    BomLine,
    Product,
    OrderLine,
    OrderNumber,
    Order,
    StockPosition,
    InboundPO,
    Policy,
]


@given(st.sampled_from(TYPES).flatmap(lambda t: st.tuples(st.just(t), st.from_type(t))))
def test_json_round_trip(case: tuple[type[Any], Any]) -> None:
    cls, value = case
    assert serialization.from_json(serialization.to_json(value), cls) == value


@given(scenarios())
def test_facts_round_trip(scenario: tuple[Order, Facts]) -> None:
    _, facts = scenario
    assert serialization.from_json(serialization.to_json(facts), Facts) == facts


@given(st.from_type(Policy))
def test_policy_document_round_trip(policy: Policy) -> None:
    assert parse_policy(policy_document(policy)) == policy


def test_definition_document_round_trip() -> None:
    assert parse_definition(definition_document(DEFAULT_DEFINITION)) == DEFAULT_DEFINITION


def test_floats_refused() -> None:
    import pytest

    from orderflow import InputError

    with pytest.raises(InputError, match="float"):
        serialization.structure({"product": "P", "qty": 1.5, "unit_price": "1"}, OrderLine)
