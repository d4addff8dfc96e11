"""Batch jobs relax the garbage collector and always restore it."""

from __future__ import annotations

import gc

import pytest

from orderflow._batch import batch_gc


def _failing_job(before: tuple[int, int, int]) -> None:
    with batch_gc():
        assert gc.get_threshold()[0] > before[0]
        raise RuntimeError("the job failed")


def test_thresholds_raised_inside_and_restored_after_errors() -> None:
    before = gc.get_threshold()
    with pytest.raises(RuntimeError):
        _failing_job(before)
    assert gc.get_threshold() == before
