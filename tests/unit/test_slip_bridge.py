"""The paper-slip bridge (R11): lockout after wrong codes, one answer, the latest failed batch."""

from __future__ import annotations

import datetime as dt

import attrs
import pytest

from orderflow.adapters.memory import MemoryStore
from orderflow.exceptions import NotFound, SlipLocked
from orderflow.service import NO_SUCH_SLIP, OrderService
from orderflow.testing.contracts import MAINLINE, draft, seeded_service


def _service() -> OrderService:
    svc = seeded_service(MemoryStore())
    svc.change_policy(
        attrs.evolve(svc.policy, slip_max_failures=3, slip_caller_max_failures=5,
                     slip_lock_minutes=15),
        actor="admin",
    )  # fmt: skip
    return svc


def _wrong(code: str) -> str:
    return "000000" if code != "000000" else "111111"


def test_a_number_locks_after_the_allowed_wrong_codes_then_unlocks() -> None:
    svc = _service()
    order = svc.submit(draft(), actor="s").order
    code = svc.slip_code(order.id, actor="s")
    for _ in range(3):
        with pytest.raises(NotFound, match="slip number and code"):
            svc.slip_status(order.number, _wrong(code))
    with pytest.raises(SlipLocked) as locked:
        svc.slip_status(order.number, code)  # even the right code waits out the lock
    assert "请于" in str(locked.value) and "try again after" in str(locked.value)
    clock = svc.clock
    assert hasattr(clock, "advance")
    clock.advance(dt.timedelta(minutes=16))
    assert svc.slip_status(order.number, code).number == order.number


def test_a_right_code_clears_the_count() -> None:
    svc = _service()
    order = svc.submit(draft(), actor="s").order
    code = svc.slip_code(order.id, actor="s")
    for _ in range(5):  # two wrong, one right, again and again: never locked
        for _ in range(2):
            with pytest.raises(NotFound):
                svc.slip_status(order.number, _wrong(code))
        svc.slip_status(order.number, code)


def test_unknown_numbers_lock_like_known_ones_so_a_lock_reveals_nothing() -> None:
    svc = _service()
    for _ in range(3):
        with pytest.raises(NotFound) as unknown:
            svc.slip_status("HY20990101-1", "123456")
        assert str(unknown.value) == NO_SUCH_SLIP
    with pytest.raises(SlipLocked):
        svc.slip_status("HY20990101-1", "123456")


def test_a_caller_that_guesses_across_numbers_is_locked() -> None:
    svc = _service()
    numbers = [svc.submit(draft(), actor="s").order.number for _ in range(6)]
    for number in numbers[:5]:
        with pytest.raises(NotFound):
            svc.slip_status(number, "123456", caller="pda-9")
    with pytest.raises(SlipLocked) as locked:
        svc.slip_status(numbers[5], "123456", caller="pda-9")
    assert locked.value.scope == "caller"
    with pytest.raises(NotFound):  # another device is not locked out by pda-9
        svc.slip_status(numbers[5], "123456", caller="pda-2")


def test_the_slip_shows_the_latest_failed_batch_of_the_product() -> None:
    svc = _service()
    failed = svc.submit(draft(), actor="s").order
    for event in MAINLINE[:3]:
        svc.fire(failed.id, event, actor="p")
    svc.fire(
        failed.id, "fail_qc", actor="qc", reason="seal leak", context={"batch": "20260118-B03"}
    )
    other = svc.submit(draft(), actor="s").order  # same product, never failed itself
    slip = svc.slip_status(other.number, svc.slip_code(other.id, actor="s"))
    assert slip.latest_failed_qc_batch == "20260118-B03"
    assert slip.stage_label == "待审核 Pending review"
