"""A request's fingerprint is stored beside its idempotency key: the direct writer of flat
arguments must give exactly the text ``json`` gives, for every map it takes."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from orderflow.service.codec import fingerprint

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
