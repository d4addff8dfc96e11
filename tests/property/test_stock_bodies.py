"""A stock body written remembers the level it says: reading it back without parsing must
give exactly what parsing gives (value and exponent of every Decimal)."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from orderflow.adapters.memory import MemoryStore
from orderflow.service import records

AMOUNTS = st.decimals(min_value=-(10**15), max_value=10**15, allow_nan=False, places=None)


def _exact(d: Decimal) -> tuple[object, ...]:
    return d.as_tuple()


@given(
    on_hand=AMOUNTS,
    reserved=AMOUNTS,
    last=st.integers(min_value=0, max_value=2**62),
    component=st.text(min_size=1, max_size=8).filter(lambda c: "|" not in c),
)
def test_a_written_stock_body_reads_back_as_parsed(
    on_hand: Decimal, reserved: Decimal, last: int, component: str
) -> None:
    store = MemoryStore()
    level = records.StockLevel(records.position(component, on_hand, reserved), last)
    with store.transaction() as tx:
        records.write_stock(tx, level)
        remembered = records.read_stock(tx, component)
        body = tx.get_doc(records.stock_kind(""), component)
    assert body is not None
    records._STOCKS.clear()  # now parse the same body
    with store.transaction() as tx:
        parsed = records.read_stock(tx, component)
    assert remembered == parsed
    for a, b in (
        (remembered.position.on_hand, parsed.position.on_hand),
        (remembered.position.reserved, parsed.position.reserved),
    ):
        assert _exact(a) == _exact(b)
    assert remembered.last_scan_us == parsed.last_scan_us == last
