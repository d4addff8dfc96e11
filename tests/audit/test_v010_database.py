"""A database written by orderflow 0.1.0 still verifies, replays and takes new writes."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from orderflow.audit import decode
from orderflow.bootstrap import connect
from orderflow.cli import main
from orderflow.clock import FrozenClock
from orderflow.exceptions import StoreError

FIXTURE = Path(__file__).parent / "data" / "v0_1_0" / "orderflow-0.1.0.db"
ENTRIES = 156


@pytest.fixture
def db(tmp_path: Path) -> Path:
    copy = tmp_path / "old.db"
    shutil.copy(FIXTURE, copy)
    return copy


def test_the_verifier_replays_every_0_1_0_order(
    db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["audit", "verify", "--db", str(db), "--deep"]) == 0
    out = capsys.readouterr().out
    assert f"{ENTRIES} entries" in out and "every order replayed and matched" in out


def test_0_1_0_payloads_read_back_by_their_version(db: Path) -> None:
    svc = connect(f"sqlite:///{db}")
    try:
        assert svc.store.origin == "orderflow.local/plant"  # taken from the log itself
        versions = {decode(data).version for data in svc.store.audit_entries()}
        assert versions == {1}
        for order in svc.store.orders():
            assert svc.audit.replay(order.id) == order
            history = svc.history(order.id)
            assert history[0].type.value == "created" and history[0].seq == 0
    finally:
        svc.store.close()


def test_new_entries_on_a_0_1_0_log_are_version_2_and_verify(db: Path) -> None:
    svc = connect(f"sqlite:///{db}", clock=FrozenClock(dt.datetime(2027, 1, 5, tzinfo=dt.UTC)))
    try:
        order = next(o for o in svc.store.orders() if o.stage == "delivered")
        svc.open_incident(order.id, "logistics", actor="qa.li", note="late signature")
        last = decode(svc.store.audit_entries(ENTRIES, ENTRIES + 1)[0])
        assert last.version == 2 and last.order_id == order.id
        svc.audit.store_checkpoint()
        assert svc.audit.verify(deep=True).size == ENTRIES + 1
    finally:
        svc.store.close()


def test_another_origin_is_refused_naming_both(db: Path) -> None:
    with pytest.raises(StoreError) as info:
        connect(f"sqlite:///{db}", origin="other.example/x")
    assert "orderflow.local/plant" in str(info.value) and "other.example/x" in str(info.value)
