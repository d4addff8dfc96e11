"""Property: a submission's fingerprint arguments are what they were since 0.1, so a
retry that spans an upgrade is still recognised."""

from __future__ import annotations

import datetime as dt
import json
import unicodedata

import attrs
from hypothesis import given
from hypothesis import strategies as st

from orderflow.domain import Order, OrderLine
from orderflow.service import OrderDraft
from orderflow.service.orders import _draft_args
from orderflow.service.results import encode_result
from orderflow.testing.strategies import orders

lines = st.lists(
    st.builds(OrderLine, st.sampled_from(["HV-100", "HV-200", "阀门"]), st.integers(1, 500),
              st.decimals("0", "9999", places=2)),
    min_size=1, max_size=4,
)  # fmt: skip


@given(
    lines,
    st.dates(dt.date(2026, 1, 1), dt.date(2030, 1, 1)),
    st.sampled_from(["", "NB1"]),
    st.text(st.characters(categories=["L", "N", "Zs"]), max_size=20),
    st.one_of(st.none(), st.just("HY20260101-1")),
    st.one_of(st.none(), st.just("o-1")),
)
def test_draft_args_are_attrs_asdict(
    drawn: list[OrderLine],
    requested: dt.date,
    factory: str,
    address: str,
    number: str | None,
    order_id: str | None,
) -> None:
    address = unicodedata.normalize("NFC", address).strip() or "addr"
    draft = OrderDraft("C001", tuple(drawn), requested, factory, address,
                       number=number, order_id=order_id)  # fmt: skip
    assert _draft_args(draft) == attrs.asdict(draft, recurse=True)


@given(orders(), st.text(st.characters(categories=["L", "N", "P"]), min_size=1, max_size=40),
       st.integers(0, 2**40))  # fmt: skip
def test_an_order_reference_is_what_the_encoder_writes(
    order: Order, order_id: str, version: int
) -> None:
    order = attrs.evolve(order, id=order_id, version=version)
    expected = "@" + json.dumps({"order": [order_id, version]}, ensure_ascii=False,
                                separators=(",", ":"))  # fmt: skip
    assert encode_result(order) == expected
