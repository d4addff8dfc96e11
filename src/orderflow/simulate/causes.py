"""Causes of late delivery for the delivery-risk model to learn (R13), off by default.

With ``PlantProfile(risk_causes=True)`` the simulated year gains what the R13 rules and
the model look at, each with its own random stream (the year's other draws stay as they
were):

* customers get delivery addresses, a quarter of them in typhoon-prone coastal cities;
  orders go by one of two carriers, one with a backup route (``context["carrier"]``);
* some customers keep changing drawings: a ``drawing_change`` incident on many of their
  orders, which delays that order's production by days;
* an order the imported-rate rule flags (3+ imported materials while the ECB rate moved
  more than 2 %) is often held up at the imported supplier;
* deliveries into a typhoon zone from July to October are often delayed when the carrier
  has no backup route, rarely when it has one.

What is visible at submission (the customer's past changes, the measured rate move, the
zone and the carrier) is what the features see; whether a delay happens is drawn after
the submission, so nothing leaks the outcome.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

from orderflow.clock import from_micros
from orderflow.risk.carriers import Carrier
from orderflow.risk.zones import TyphoonZones

if TYPE_CHECKING:
    from orderflow.service import OrderService, Submission

__all__ = ["RiskCauses"]

_HOUR = 3_600_000_000
_ZONE_ADDRESSES = (
    "广东省湛江市霞山区人民大道南1号",
    "福建省厦门市湖里区兴湖路8号",
    "浙江省温州市鹿城区车站大道2号",
    "海南省海口市美兰区海甸五西路3号",
    "广西壮族自治区北海市海城区北部湾中路6号",
)
_INLAND_ADDRESSES = (
    "浙江省杭州市西湖区文三路1号",
    "江苏省南京市鼓楼区中山路1号",
    "湖南省长沙市岳麓区麓山南路2号",
    "四川省成都市武侯区人民南路4号",
    "河南省郑州市金水区花园路5号",
)
_TYPHOON_MONTHS = frozenset({7, 8, 9, 10})


class RiskCauses:
    """The year's risk causes: addresses, carriers, drawing changers, delays per order."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(f"risk-causes/{seed}")
        self.address: dict[str, str] = {}
        self.changer: dict[str, bool] = {}
        self.delays: dict[tuple[str, str], int] = {}  # (order, step) -> extra micros
        self.zones = TyphoonZones.builtin()

    def setup(self, svc: OrderService, customers: list[str], factory_id: str) -> None:
        """Addresses and change habits per customer; the two carriers."""
        rng = self.rng
        for c in customers:
            zone = rng.random() < 0.25
            self.address[c] = rng.choice(_ZONE_ADDRESSES if zone else _INLAND_ADDRESSES)
            self.changer[c] = rng.random() < 0.12
        svc.put_carrier(Carrier("SF", "SF Express", backup_route=True))
        svc.put_carrier(Carrier("DB", "Deppon", backup_route=False, default_for=(factory_id,)))

    def terms(self, customer: str) -> tuple[str, dict[str, str]]:
        """The delivery address and the submission context (carrier) of a new order."""
        return self.address[customer], {"carrier": "SF" if self.rng.random() < 0.5 else "DB"}

    def submitted(self, svc: OrderService, sub: Submission, now_us: int) -> None:
        """Draw the order's delays, and record the drawing change a changer makes."""
        rng = self.rng
        order = sub.order
        codes = {f.code for f in sub.flags}
        if rng.random() < (0.45 if self.changer[order.customer_id] else 0.01):
            incident = svc.open_incident(order.id, "drawing_change", actor="sales",
                                         note="customer sent a new drawing revision")  # fmt: skip
            svc.resolve_incident(incident.id, "drawing revision confirmed", actor="engineering")
            self._add(order.id, "release", rng.uniform(48, 120))
        if "imported_rate" in codes and rng.random() < 0.5:
            self._add(order.id, "release", rng.uniform(72, 192))
        month = from_micros(now_us).month
        in_zone = self.zones.zone_for_address(order.delivery_address) is not None
        if month in _TYPHOON_MONTHS and in_zone:
            backup = "typhoon_route" not in codes
            if rng.random() < (0.08 if backup else 0.5):
                self._add(order.id, "deliver", rng.uniform(48, 120))

    def _add(self, order_id: str, step: str, hours: float) -> None:
        key = (order_id, step)
        self.delays[key] = self.delays.get(key, 0) + int(hours * _HOUR)

    def extra(self, order_id: str, step: str) -> int:
        """Extra microseconds before ``step`` (``release`` or ``deliver``) of an order."""
        return self.delays.pop((order_id, step), 0)
