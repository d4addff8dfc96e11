"""A Kingdee K3 WISE-shaped fixture database filled by a seeded generator (no real data).

Creates the tables of :mod:`orderflow.testing.k3_schema` (the ones the
``kingdee-k3-wise`` preset reads, plus the stock bills) and fills them from a seeded random
generator: the same seed always gives the same rows. Customers are ``C00001`` ...,
materials ``P-00001`` ...; one material is the case study's seal ring ``Q23-7``. Needs the
``erp`` extra.

Example::

    engine = sqlalchemy.create_engine("sqlite:///k3.db")
    create_k3_schema(engine)
    populate_k3(engine, orders=147_000, lines_per_order=3, seed=7)
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Iterator, Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING

import attrs

from orderflow._extras import require
from orderflow.testing.k3_schema import create_k3_schema, drop_k3_schema, k3_metadata

if TYPE_CHECKING:
    import sqlalchemy as sa
else:
    sa = require("sqlalchemy", "erp")

__all__ = [
    "BOX",
    "BOX_PIECES",
    "CHECKER",
    "SEAL_RING",
    "USD",
    "USD_RATE",
    "VAT",
    "K3Stats",
    "K3Writer",
    "create_k3_schema",
    "drop_k3_schema",
    "k3_header",
    "k3_line",
    "k3_metadata",
    "populate_k3",
]

SEAL_RING = "Q23-7"
"""Material code of the case study's seal ring (``t_ICItem.FNumber``)."""

ITEM_BASE = 10_000
CUSTOMER_BASE = 0
FIRST_INTERID = 1_001


@attrs.frozen
class K3Stats:
    """What :func:`populate_k3` wrote and how long it took."""

    orders: int
    lines: int
    customers: int
    items: int
    seconds: float
    first_interid: int
    last_interid: int

    @property
    def rows_per_second(self) -> float:
        """Header plus line rows inserted per second."""
        return (self.orders + self.lines) / self.seconds if self.seconds else 0.0


def _customers(n: int) -> list[dict[str, object]]:
    return [
        {"FItemID": CUSTOMER_BASE + i, "FNumber": f"C{i:05d}", "FName": f"Customer {i:05d}"}
        for i in range(1, n + 1)
    ]


def _items(n: int) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = [
        {
            "FItemID": ITEM_BASE + i,
            "FNumber": f"P-{i:05d}",
            "FName": f"Part {i:05d}",
            "FModel": f"M{i % 97:02d}",
        }
        for i in range(1, n + 1)
    ]
    rows[0].update({"FNumber": SEAL_RING, "FName": "seal ring", "FModel": "NBR 23x7"})
    return rows


CHECKER = 16394
"""``FCheckerID`` of the generated documents' auditor (any non-zero user id)."""
BOX = 2
"""``FUnitID`` of the box unit: 12 pieces (``FUnitID`` 1) per box."""
BOX_PIECES = Decimal(12)
VAT = Decimal(13)
"""``FCess``, the tax rate in percent, of the generated lines."""
USD = 2
"""``FCurrencyID`` of the foreign currency (``1`` is the base currency, CNY)."""
USD_RATE = Decimal("7.1")


def k3_line(
    interid: int,
    entry: int,
    item: int,
    order_qty: Decimal,
    price: Decimal,
    due: dt.datetime,
    *,
    unit: int = 1,
    coefficient: Decimal = Decimal(1),
    rate: Decimal = Decimal(1),
    tax: Decimal = VAT,
    **values: object,
) -> dict[str, object]:
    """One consistent ``SEOrderEntry`` row, as K3 computes its columns.

    ``order_qty`` (``FAuxQty``) is in the order unit ``unit``; ``FQty`` is the base
    quantity (times ``coefficient``); ``price`` is ``FAuxPrice`` (ex tax, document
    currency); ``FAllStdAmount`` is the tax-inclusive line amount in the base currency.
    ``values`` override columns.
    """
    incl = (price * (1 + tax / 100)).quantize(Decimal("0.0001"))
    row: dict[str, object] = {
        "FInterID": interid,
        "FEntryID": entry,
        "FItemID": item,
        "FQty": order_qty * coefficient,
        "FAuxQty": order_qty,
        "FUnitID": unit,
        "FPrice": price / coefficient,
        "FAuxPrice": price,
        "FAuxTaxPrice": incl,
        "FCess": tax,
        "FTaxRate": Decimal(0),
        "FAllStdAmount": (incl * order_qty * rate).quantize(Decimal("0.01")),
        "FDate": due,
        "FMrpClosed": 0,
    }
    row.update(values)
    return row


def k3_header(interid: int, **values: object) -> dict[str, object]:
    """An audited, open ``SEOrder`` row in the base currency; ``values`` override."""
    row: dict[str, object] = {
        "FInterID": interid,
        "FBillNo": f"SEORD{interid:06d}",
        "FTranType": 81,
        "FDate": dt.datetime(2026, 1, 22, 9, 30),
        "FCustID": CUSTOMER_BASE + 1,
        "FCancellation": 0,
        "FStatus": 1,
        "FCheckerID": CHECKER,
        "FClosed": 0,
        "FChangeMark": 0,
        "FClassTypeID": 0,
        "FCurrencyID": 1,
        "FExchangeRate": Decimal(1),
    }
    row.update(values)
    return row


def order_rows(
    rng: random.Random,
    interid: int,
    *,
    lines: int,
    customers: int,
    items: int,
    day: dt.date,
    cancel_rate: float = 0.005,
) -> tuple[dict[str, object], list[dict[str, object]]]:
    """One generated document: a header row and its ``lines`` line rows.

    Every 10th material is sold in boxes of 12; every 50th order is in USD.
    """
    stamp = dt.datetime.combine(day, dt.time(8)) + dt.timedelta(seconds=rng.randrange(36_000))
    foreign = interid % 50 == 0
    rate = USD_RATE if foreign else Decimal(1)
    header = k3_header(
        interid,
        FDate=stamp,
        FCustID=CUSTOMER_BASE + rng.randint(1, customers),
        FCancellation=1 if rng.random() < cancel_rate else 0,
        FCurrencyID=USD if foreign else 1,
        FExchangeRate=rate,
    )
    due = dt.datetime.combine(day + dt.timedelta(days=rng.randint(7, 30)), dt.time())
    rows: list[dict[str, object]] = []
    for entry in range(1, lines + 1):
        item = rng.randint(1, items)
        qty = Decimal(rng.randint(1, 500))
        price = Decimal(rng.randint(100, 99_999)) / 100
        boxed = item % 10 == 0
        rows.append(
            k3_line(
                interid,
                entry,
                ITEM_BASE + item,
                qty,
                price,
                due,
                unit=BOX if boxed else 1,
                coefficient=BOX_PIECES if boxed else Decimal(1),
                rate=rate,
            )
        )
    return header, rows


def _batches(
    *,
    orders: int,
    lines: int,
    customers: int,
    items: int,
    seed: int,
    start: dt.date,
    first: int,
    per_day: int,
    size: int,
) -> Iterator[tuple[list[dict[str, object]], list[dict[str, object]]]]:
    rng = random.Random(seed)
    heads: list[dict[str, object]] = []
    entries: list[dict[str, object]] = []
    for i in range(orders):
        head, rows = order_rows(
            rng,
            first + i,
            lines=lines,
            customers=customers,
            items=items,
            day=start + dt.timedelta(days=i // per_day),
        )
        heads.append(head)
        entries.extend(rows)
        if len(heads) >= size:
            yield heads, entries
            heads, entries = [], []
    if heads:
        yield heads, entries


def populate_k3(
    engine: sa.Engine,
    *,
    orders: int,
    lines_per_order: int = 3,
    customers: int = 200,
    items: int = 500,
    seed: int = 7,
    schema: str | None = None,
    start: dt.date = dt.date(2026, 1, 5),
    first_interid: int = FIRST_INTERID,
    per_day: int = 400,
    batch: int = 5_000,
    stock: Mapping[str, Decimal] | None = None,
) -> K3Stats:
    """Fill the K3 tables with a seeded, reproducible data set (executemany batches).

    ``per_day`` orders share an order date (the plant's ~400 a day). ``stock`` sets
    ``ICInventory`` quantities by material code (warehouse 1); every other material
    gets a seeded quantity.
    """
    md = k3_metadata(schema)
    t = md.tables
    key = (lambda name: f"{schema}.{name}") if schema else (lambda name: name)
    began = time.perf_counter()
    item_rows = _items(items)
    rng = random.Random(seed + 1)
    wanted = dict(stock or {})
    inventory = [
        {
            "FItemID": r["FItemID"],
            "FStockID": 1,
            "FQty": wanted.get(str(r["FNumber"]), Decimal(rng.randint(0, 5_000))),
        }
        for r in item_rows
    ]
    with engine.begin() as conn:
        conn.execute(t[key("t_Organization")].insert(), _customers(customers))
        conn.execute(t[key("t_ICItem")].insert(), item_rows)
        conn.execute(t[key("ICInventory")].insert(), inventory)
    written = 0
    for heads, entries in _batches(
        orders=orders,
        lines=lines_per_order,
        customers=customers,
        items=items,
        seed=seed,
        start=start,
        first=first_interid,
        per_day=per_day,
        size=batch,
    ):
        with engine.begin() as conn:
            conn.execute(t[key("SEOrder")].insert(), heads)
            conn.execute(t[key("SEOrderEntry")].insert(), entries)
        written += len(heads)
    return K3Stats(
        orders=written,
        lines=written * lines_per_order,
        customers=customers,
        items=items,
        seconds=time.perf_counter() - began,
        first_interid=first_interid,
        last_interid=first_interid + written - 1,
    )


class K3Writer:
    """Edits a K3 fixture the way ERP users do: new orders, line edits, cancellations.

    Every method commits its own transaction (like a K3 client saving a bill) and
    returns the instant of the commit (``time.time()`` after it), for latency checks.
    """

    def __init__(self, engine: sa.Engine, schema: str | None = None) -> None:
        self.engine = engine
        md = k3_metadata(schema)
        prefix = f"{schema}." if schema else ""
        self.order = md.tables[f"{prefix}SEOrder"]
        self.entry = md.tables[f"{prefix}SEOrderEntry"]
        self.org = md.tables[f"{prefix}t_Organization"]
        self.item = md.tables[f"{prefix}t_ICItem"]
        self.inventory = md.tables[f"{prefix}ICInventory"]

    def next_interid(self) -> int:
        """One above the highest ``FInterID`` in ``SEOrder``."""
        with self.engine.connect() as conn:
            top = conn.execute(sa.select(sa.func.max(self.order.c.FInterID))).scalar()
        return FIRST_INTERID if top is None else int(top) + 1

    def insert_order(
        self, header: Mapping[str, object], lines: Sequence[Mapping[str, object]]
    ) -> float:
        """Insert one document (header and lines) in one transaction."""
        with self.engine.begin() as conn:
            conn.execute(self.order.insert(), [dict(header)])
            if lines:
                conn.execute(self.entry.insert(), [dict(r) for r in lines])
        return time.time()

    def update_line(self, interid: int, entry: int, **values: object) -> float:
        """Change columns of one line (``FQty``, ``FPrice``, ``FItemID``, ``FDate``)."""
        with self.engine.begin() as conn:
            conn.execute(
                self.entry.update()
                .where(self.entry.c.FInterID == interid, self.entry.c.FEntryID == entry)
                .values(**values)
            )
        return time.time()

    def update_header(self, interid: int, **values: object) -> float:
        """Change header columns (``FCustID``, ``FBillNo``, ``FDate``, ``FStatus`` ...)."""
        with self.engine.begin() as conn:
            conn.execute(
                self.order.update().where(self.order.c.FInterID == interid).values(**values)
            )
        return time.time()

    def cancel(self, interid: int) -> float:
        """Set ``FCancellation = 1`` (K3 作废)."""
        return self.update_header(interid, FCancellation=1)

    def add_customer(self, item_id: int, number: str, name: str) -> float:
        """Add a customer to ``t_Organization``."""
        with self.engine.begin() as conn:
            conn.execute(
                self.org.insert(), [{"FItemID": item_id, "FNumber": number, "FName": name}]
            )
        return time.time()

    def set_stock(self, item_id: int, qty: Decimal, warehouse: int = 1) -> float:
        """Set the on-hand quantity of an item in a warehouse (insert or update)."""
        with self.engine.begin() as conn:
            done = conn.execute(
                self.inventory.update()
                .where(self.inventory.c.FItemID == item_id, self.inventory.c.FStockID == warehouse)
                .values(FQty=qty)
            ).rowcount
            if not done:
                conn.execute(
                    self.inventory.insert(),
                    [{"FItemID": item_id, "FStockID": warehouse, "FQty": qty}],
                )
        return time.time()
