"""Property: a submission's fingerprint arguments are what they were since 0.1, so a
retry that spans an upgrade is still recognised."""

from __future__ import annotations

import datetime as dt
import json
import unicodedata
from decimal import Decimal
from typing import Any

import attrs
from hypothesis import given
from hypothesis import strategies as st

from orderflow.domain import Order, OrderLine
from orderflow.service import OrderDraft
from orderflow.service.codec import fingerprint
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


# --- the fingerprint's text: the direct writer of flat arguments is json's text ---------
SCALARS = st.one_of(
    st.none(),
    st.text(),
    st.integers(),
    st.booleans(),
    st.decimals(allow_nan=False, allow_infinity=False),
    st.datetimes(),
    st.dates(),
)
VALUES = st.recursive(
    SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner)
)


@given(st.text(), st.dictionaries(st.text(), VALUES, max_size=8))
def test_fingerprint_is_jsons_text(operation: str, args: dict[str, Any]) -> None:
    expected = json.dumps(args, sort_keys=True, default=str, ensure_ascii=False)
    assert fingerprint(operation, args) == operation + ":" + expected


@given(st.dictionaries(st.text(), st.one_of(st.none(), st.text(), st.integers()), max_size=8))
def test_flat_arguments_take_the_direct_writer_and_agree(args: dict[str, Any]) -> None:
    assert fingerprint("fire", args) == "fire:" + json.dumps(
        args, sort_keys=True, ensure_ascii=False
    )


def test_a_fired_events_fingerprint_is_unchanged_since_0_1() -> None:
    # the stored text of a fire request (bench_year's keys, and every 0.x database)
    args = {"order": "o1", "event": "deliver", "reason": None, "occurred": None,
            "expected": 3, "ctx": None}  # fmt: skip
    assert fingerprint("fire", args) == (
        'fire:{"ctx": null, "event": "deliver", "expected": 3, "occurred": null, '
        '"order": "o1", "reason": null}'
    )
    assert fingerprint("x", {"at": dt.date(2026, 1, 5), "n": Decimal("1.50")}) == (
        'x:{"at": "2026-01-05", "n": "1.50"}'
    )
