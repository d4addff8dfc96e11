"""Batch jobs relax the garbage collector and always restore it."""

from __future__ import annotations

import gc

import pytest

from orderflow._batch import batch_gc


def test_thresholds_raised_inside_and_restored_after_errors() -> None:
    before = gc.get_threshold()
    with pytest.raises(RuntimeError), batch_gc():
        assert gc.get_threshold()[0] > before[0]
        raise RuntimeError("the job failed")
    assert gc.get_threshold() == before
