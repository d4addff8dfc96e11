"""The stock part of the store contract: reservations, scans, warehouses (R6).

Mixed into :class:`~orderflow.testing.contracts.StoreContract`; every store adapter
passes it through that class.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import attrs

from orderflow._extras import require

require("pytest", "testing")
import pytest

from orderflow.exceptions import InputError, TransitionRefused
from orderflow.ports import Store
from orderflow.workflow import CapacitySlot

__all__ = ["StockContract"]


class StockContract:
    """Stock through the service on any store: reserve, issue and release; scans and
    purchasing alerts; factories' own warehouses and transfers."""

    def test_own_warehouses_keep_factories_apart(self, store: Store) -> None:
        from orderflow.testing.contracts import draft, seeded_service

        svc = seeded_service(store)  # 1,000 seal rings in the shared warehouse
        svc.put_capacity("NB2", [CapacitySlot("L1", dt.date(2026, 5, 12),
                                              dt.date(2026, 6, 20), 10**6)])  # fmt: skip
        assert svc.put_warehouse("NB2") is True
        assert svc.put_warehouse("NB2") is False
        assert svc.stock("Q23-7", "NB2").on_hand == 0
        nb2 = svc.submit(attrs.evolve(draft(100), factory_id="NB2"), actor="s").order
        with pytest.raises(TransitionRefused):  # the shared stock is not NB2's
            svc.fire(nb2.id, "lock_kitting", actor="p")
        with pytest.raises(InputError, match="same warehouse"):
            svc.transfer_stock("Q23-7", 1, from_factory="", to_factory="NB1", actor="w")
        moved = svc.transfer_stock("Q23-7", 300, from_factory="", to_factory="NB2", actor="w")
        assert (moved.source.on_hand, moved.target.on_hand) == (Decimal(700), Decimal(300))
        svc.fire(nb2.id, "lock_kitting", actor="p")
        assert svc.stock("Q23-7", "NB2").reserved == 100
        assert svc.stock("Q23-7").reserved == 0
        svc.record_scan("Q23-7", 50, direction="out", actor="w", factory_id="NB2")
        with pytest.raises(InputError, match="reserved"):
            svc.record_scan("Q23-7", 200, direction="out", actor="w", factory_id="NB2")
        with pytest.raises(InputError, match="reserved"):
            svc.transfer_stock("Q23-7", 200, from_factory="NB2", to_factory="", actor="w")
        nb1 = svc.submit(draft(100), actor="s").order
        svc.fire(nb1.id, "lock_kitting", actor="p")
        svc.fire(nb2.id, "dispatch_production", actor="p")
        assert svc.stock("Q23-7", "NB2") == type(moved.target)("Q23-7", 150, 0)
        assert svc.stock("Q23-7") == type(moved.target)("Q23-7", 700, 100)
        assert [len(store.audit_chain(c)) for c in ("stock:NB2/Q23-7", "stock/Q23-7")] == [2, 2]
        svc.audit.verify(deep=True)

    def test_effects_reserve_issue_release(self, store: Store) -> None:
        from orderflow.testing.contracts import draft, seeded_service

        svc = seeded_service(store)
        a = svc.submit(draft(100), actor="s").order
        b = svc.submit(draft(200), actor="s").order
        svc.fire(a.id, "lock_kitting", actor="p")
        svc.fire(b.id, "lock_kitting", actor="p")
        assert svc.stock("Q23-7").reserved == 300
        assert svc.customer("C001").open_exposure == Decimal(3000)
        svc.fire(b.id, "cancel", actor="p", reason="customer withdrew")
        assert svc.stock("Q23-7").reserved == 100
        svc.fire(a.id, "dispatch_production", actor="p")
        assert svc.stock("Q23-7") == type(svc.stock("Q23-7"))("Q23-7", 900, 0)
        assert svc.customer("C001").open_exposure == Decimal(1000)

    def test_scans_alert_and_refuse_negative_stock(self, store: Store) -> None:
        from orderflow.testing.contracts import seeded_service

        svc = seeded_service(store, seal_rings=60)
        assert svc.record_scan("Q23-7", 5, direction="out", actor="wh").alert is None
        result = svc.record_scan(
            "Q23-7", 10, direction="out", actor="wh", device="pda-7", batch="B1"
        )
        assert result.position.on_hand == 45
        assert result.alert is not None and result.alert.safety_stock == 50
        assert [a.device for a in svc.alerts()] == ["pda-7"]
        with pytest.raises(InputError, match="would leave -955"):
            svc.record_scan("Q23-7", 1000, direction="out", actor="wh")
        assert svc.stock("Q23-7").on_hand == 45
        svc.audit.verify()
