"""The memory store's packed audit log behaves as the list of bytes it replaces."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orderflow.adapters import memory
from orderflow.adapters.memory import _PackedLog

_OPS = st.lists(
    st.one_of(
        st.tuples(st.just("append"), st.binary(max_size=12)),
        st.tuples(st.just("pop"), st.none()),
        st.tuples(st.just("replace"), st.tuples(st.integers(0, 10**6), st.binary(max_size=12))),
    ),
    max_size=60,
)


@pytest.fixture(scope="module")
def small_chunks() -> Iterator[None]:
    """Chunks of 3 entries: every test crosses chunk boundaries both ways."""
    saved = memory._CHUNK
    memory._CHUNK = 3
    yield
    memory._CHUNK = saved


@settings(max_examples=300)
@given(ops=_OPS, start=st.integers(-70, 70), stop=st.none() | st.integers(-70, 70))
def test_the_packed_log_reads_as_a_list(
    small_chunks: None, ops: list[tuple[str, Any]], start: int, stop: int | None
) -> None:
    log, model = _PackedLog(), list[bytes]()
    for op, arg in ops:
        if op == "append":
            log.append(arg)
            model.append(arg)
        elif op == "pop" and model:
            log.pop()
            model.pop()
        elif op == "replace" and model:
            index, data = arg
            log.replace(index % len(model), data)
            model[index % len(model)] = data
        assert len(log) == len(model)
    assert [log[i] for i in range(len(model))] == model
    assert log.between(start, stop) == model[start:stop]
