"""The 5-minute tour of docs/quickstart.md, as one script (every block of the page).

Run: ``python examples/quickstart.py`` (writes ``plant.db`` in the current directory).
"""

# --- connect
import datetime as dt
from decimal import Decimal
from pathlib import Path

from orderflow import (
    BomLine,
    CapacitySlot,
    Component,
    Customer,
    FrozenClock,
    OrderLine,
    Product,
    ProductKind,
    TransitionRefused,
)
from orderflow.bootstrap import connect
from orderflow.service import OrderDraft

for leftover in ("plant.db", "plant.db-wal", "plant.db-shm"):
    Path(leftover).unlink(missing_ok=True)  # start the tour from an empty database

# A frozen clock makes the tour repeatable; leave clock= out to use the real time.
clock = FrozenClock(dt.datetime(2026, 1, 22, 1, 0, tzinfo=dt.UTC))  # 09:00 in Ningbo
service = connect("sqlite:///plant.db", clock=clock)

# --- master data
service.put_customer(
    Customer("C001", "Ningbo Valves", credit_grade="A", credit_limit=Decimal("500000"))
)
service.put_component(
    Component("Q23-7", "seal ring", suppliers=("S-Ningbo", "S-Wenzhou"), safety_stock=50)
)
service.put_component(Component("B-12", "valve body", imported=True, suppliers=("S-Osaka",)))
service.put_product(
    Product(
        "HV-100",
        "hydraulic valve",
        ProductKind.REGULAR,
        bom=(BomLine("Q23-7", 1), BomLine("B-12", 1)),
    )
)
service.set_stock("Q23-7", 104)
service.set_stock("B-12", 300)
service.put_capacity(
    "NB1", [CapacitySlot("L1", dt.date(2026, 1, 23), dt.date(2026, 2, 28), free_units=500)]
)

# --- submit
submission = service.submit(
    OrderDraft(
        customer_id="C001",
        lines=[OrderLine("HV-100", 100, unit_price="85.00")],
        requested_date=dt.date(2026, 3, 1),
        factory_id="NB1",
        delivery_address="宁波市北仑区 新碶街道 1 号",
    ),
    actor="sales.zhang",
    idempotency_key="wechat-msg-5521",
)
order = submission.order
print(order.number, order.stage, "all checks passed:", submission.passed)
for check in submission.checks:
    print(" ", "pass" if check.ok else "FAIL", check.code, "-", check.message)
# HY20260122-1 pending_review all checks passed: False
#   pass credit_limit - within credit limit
#   FAIL bom_kitting - seal ring Q23-7: available 104 < required 105 = 100 x 1.05
#   pass capacity_slot - a production slot is free

# the kitting rate: one of two components is covered
print(submission.checks[1].measured["kitting_rate"])  # 0.5

# --- refusal
try:
    service.fire(order.id, "lock_kitting", actor="wang.li")
except TransitionRefused as refused:
    print(refused.codes)  # ('bom_kitting',)
    for reason in refused.reasons:
        print(reason.message, reason.measured["short"])
# seal ring Q23-7: available 104 < required 105 = 100 x 1.05
#   {'Q23-7': {'available': Decimal('104'), 'required': Decimal('105.00')}}

# --- slip
code = service.slip_code(order.id, actor="wang.li")  # printed on the paper slip
slip = service.slip_status(order.number, code)
for shortage in slip.shortages:
    print(shortage.label, shortage.available, "<", shortage.required)
print("recommended supplier:", slip.recommended_supplier)
# seal ring Q23-7 104 < 105.00
# recommended supplier: S-Wenzhou

# --- events
scan = service.record_scan(
    "Q23-7", 200, direction="in", actor="wh.li", device="pda-7", batch="20260122-IN1"
)
print(scan.position.available)  # 304
order = service.fire(order.id, "lock_kitting", actor="wang.li", context={"device": "pc-12"})
seal_rings = service.stock("Q23-7")
print(order.stage, seal_rings.on_hand, seal_rings.reserved)  # kitting_locked 304 100
clock.advance(dt.timedelta(hours=3))
order = service.fire(
    order.id, "dispatch_production", actor="plan.chen", expected_version=order.version
)
clock.advance(dt.timedelta(days=2))
order = service.fire(order.id, "release_qc", actor="qc.wu", context={"batch": "20260124-B01"})
print(order.stage, order.version)  # qc_released 3

# --- customer
assert submission.query_token is not None  # only the creating call sees the token
status = service.customer_status(submission.query_token)
print(status.number, status.stage_label, status.expected_departure)
for visit in status.history:
    print(f"  {visit.at:%Y-%m-%d %H:%M} {visit.stage}")
# HY20260122-1 质检放行 QC released 2026-03-01
#   2026-01-22 01:00 pending_review
#   2026-01-22 01:00 kitting_locked
#   2026-01-22 04:00 production_dispatched
#   2026-01-24 04:00 qc_released

# --- audit
checkpoint = service.audit.verify(deep=True)  # raises TamperDetected on any tampering
print(checkpoint.size, "entries, root", checkpoint.root.hex()[:16])  # 7 entries, root …
print(service.audit.replay(order.id) == service.get(order.id))  # True
print(service.audit.status_as_of(order.id, dt.datetime(2026, 1, 22, 2, tzinfo=dt.UTC)))
# kitting_locked
service.store.close()
