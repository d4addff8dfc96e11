"""The entry codec's fast paths give what the general code gives: the same text, the
same acceptance and the same errors (the bytes are stored and hashed, so "almost the
same" would be a broken log)."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from orderflow.audit import entry as E
from orderflow.audit import reading as R
from orderflow.audit import scalars as S
from orderflow.audit.entry import FieldChange
from orderflow.exceptions import InputError


class Text(str):
    """A str subclass: never taken by a fast path."""


texts = st.one_of(
    st.text(max_size=6),
    st.sampled_from(["", "a", "b", "e\u0301", "\u00e9", "\ud800", "数量"]),
    st.builds(Text, st.sampled_from(["a", "b", ""])),
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.sampled_from([S.MAX_INT, S.MAX_INT + 1, -S.MAX_INT, -S.MAX_INT - 1]),
    texts,
    st.decimals(allow_nan=True, places=2),
)


def _outcome(check: object, value: object) -> str:
    try:
        check(value)  # type: ignore[operator]
    except InputError as exc:
        return f"InputError: {exc}"
    return "ok"


def _full_changes(changes: tuple[FieldChange, ...]) -> None:
    """_check_changes as it was before its fast path."""
    last = ""
    for change in changes:
        if not isinstance(change, FieldChange):
            raise InputError(f"changes must be FieldChange values, got {change!r:.60}")
        S._key(change.field, "changed field name")
        if change.field <= last:
            raise InputError("changes must be sorted by field name, without repeats")
        last = change.field
        for value, what in ((change.old, "old"), (change.new, "new")):
            if isinstance(value, Decimal):
                raise InputError("store decimals as text (next_entry converts them)")
            S._scalar(value, f"{what} value of {change.field}")


def _full_context(context: tuple[tuple[str, str], ...]) -> None:
    """_check_context as it was before its fast path."""
    last = ""
    for pair in context:
        if not isinstance(pair, tuple) or len(pair) != 2:
            raise InputError(f"context items must be (key, text) pairs, got {pair!r:.60}")
        S._key(pair[0], "context key")
        if pair[0] <= last:
            raise InputError("context must be sorted by key, without repeats")
        last = pair[0]
        S._text(pair[1], f"context value {pair[0]}")


@given(scalars)
def test_scalar_text_is_the_json_encoders(value: object) -> None:
    try:
        expected = S._dumps(S._scalar(value, "v"))
    except InputError:
        return
    assert S._json(S._scalar(value, "v")) == expected


@given(scalars)
def test_a_plain_value_is_one_the_full_check_keeps_as_it_is(value: object) -> None:
    if S._plain(value):
        assert S._scalar(value, "v") is value


@given(st.lists(st.tuples(texts, scalars, scalars), max_size=4), st.booleans())
def test_change_checks_agree_with_the_full_checks(
    items: list[tuple[str, object, object]], sort: bool
) -> None:
    ordered = sorted(items, key=str) if sort else items
    changes = tuple(FieldChange(f, old, new) for f, old, new in ordered)  # type: ignore[arg-type]
    assert _outcome(E._check_changes, changes) == _outcome(_full_changes, changes)


@given(
    st.lists(st.one_of(st.tuples(texts, texts), st.tuples(texts), st.just(["a", "b"])), max_size=4),
    st.booleans(),
)
def test_context_checks_agree_with_the_full_checks(items: list[object], sort: bool) -> None:
    context = tuple(sorted(items, key=str) if sort else items)
    assert _outcome(E._check_context, context) == _outcome(_full_context, context)


@pytest.mark.parametrize(
    "text",
    ['{"a":1}', '\ufeff{"a":1}', '{"a":1,"a":2}', '{"a":1.5}', '{"a":NaN}', "[", "", " {}"],
)
def test_the_shared_decoder_parses_and_fails_as_json_loads(text: str) -> None:
    def loads() -> object:
        return json.loads(
            text, parse_float=R._no_float, parse_constant=R._no_float, object_pairs_hook=R._pairs
        )

    try:
        expected: object = loads()
    except ValueError as exc:
        with pytest.raises(type(exc)) as raised:
            R._loads(text)
        assert str(raised.value) == str(exc)
    else:
        assert R._loads(text) == expected
