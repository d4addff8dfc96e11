"""Value objects refuse bad input clearly; policies load from documents (R1, R4)."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest

from orderflow import (
    Customer,
    InputError,
    OrderLine,
    OrderNumber,
    PolicyError,
    PolicyStore,
    StockPosition,
    load_policy,
    parse_policy,
)
from orderflow.domain import query_token_hash
from orderflow.policy import Policy, policy_document
from tests.unit.helpers import make_order


def test_order_number_shape() -> None:
    n = OrderNumber.parse("HY20260122-887")
    assert (n.prefix, n.date, n.seq) == ("HY", dt.date(2026, 1, 22), 887)
    assert str(n) == "HY20260122-887"
    for bad in ("HY2026012-887", "hy20260122-887", "HY20260230-1", "HY20260122"):
        with pytest.raises(InputError):
            OrderNumber.parse(bad)


def test_new_order_keeps_only_the_hash_of_its_token() -> None:
    order = make_order()
    assert len(order.query_token_hash) == 64
    assert not any("code" in name for name in order.__dict__)  # the slip code is derived
    assert order.amount == Decimal(1000)
    assert make_order().id != order.id


def test_token_is_stored_hashed() -> None:
    from orderflow import new_order

    order, token = new_order(
        number="HY20260122-1",
        customer_id="C",
        lines=[OrderLine("P", 1)],
        requested_date=dt.date(2026, 2, 1),
        factory_id="F",
        initial_stage="pending_review",
        created_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
    )
    assert len(token) >= 22  # 16 random bytes, url-safe base64
    assert order.query_token_hash == query_token_hash(token)
    assert token not in repr(order)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: OrderLine("P", 0), "qty must be > 0"),
        (lambda: OrderLine("P", 1.5), "not float"),
        (lambda: OrderLine("", 1), "product must not be blank"),
        (lambda: Customer("C", "x", credit_limit="-1"), "credit_limit must be a finite number"),
        (lambda: StockPosition("c", "abc"), "not a number"),
        (lambda: OrderLine("P", "NaN"), "finite"),
    ],
)
def test_bad_values_raise_input_error(build: object, message: str) -> None:
    with pytest.raises(InputError, match=message):
        build()  # type: ignore[operator]


def test_no_lines_and_naive_time_refused() -> None:
    import attrs

    with pytest.raises(InputError, match="at least one line"):
        attrs.evolve(make_order(), lines=())
    with pytest.raises(InputError, match="timezone-aware"):
        attrs.evolve(make_order(), created_at=dt.datetime(2026, 1, 1))


def test_stock_available() -> None:
    assert StockPosition("c", 10, 4).available == 6


def test_policy_defaults_are_the_seed_table() -> None:
    p = Policy()
    assert p.safety.regular == Decimal("1.05") and p.safety.custom == Decimal("1.3")
    assert p.safety.new_ladder[0] == Decimal("1.8") and p.safety.step_after == 3
    assert p.po_overdue_days == 7
    assert len(p.exception_categories) == 7
    t = p.timeouts
    assert t.limit("pending_review", 5) == dt.timedelta(hours=2)
    assert t.limit("kitting_locked", 5) == dt.timedelta(hours=4)
    assert t.limit("pending_review", 11) == dt.timedelta(hours=1, minutes=24)  # peak: -30 %
    assert t.limit("kitting_locked", 2) == dt.timedelta(hours=6)  # off season: +50 %
    assert t.limit("delivered", 5) is None


def test_policy_document_round_trip_and_files(tmp_path: Path) -> None:
    p = parse_policy({"version": 3, "safety": {"regular": "1.1"}, "po_overdue_days": 5})
    assert parse_policy(policy_document(p)) == p
    path = tmp_path / "policy.toml"
    path.write_text('version = 2\n[safety]\ncustom = "1.4"\n', encoding="utf-8")
    assert load_policy(path).safety.custom == Decimal("1.4")
    jpath = tmp_path / "policy.json"
    jpath.write_text(json.dumps({"timeouts": {"peak_months": [12]}}), encoding="utf-8")
    assert load_policy(jpath).timeouts.peak_months == frozenset({12})


@pytest.mark.parametrize(
    ("doc", "where"),
    [
        ({"safety": {"regular": "0.9"}}, "safety.regular"),
        ({"safety": {"new_ladder": ["1.3", "1.8"]}}, "never step up"),
        ({"po_overdue_days": -1}, "po_overdue_days"),
        ({"timeouts": {"peak_months": [1], "off_months": [1]}}, "both peak and off season"),
        (
            {"exception_categories": [{"code": "other", "label": "x", "colour": "#ffffff"}]},
            "no vague catch-all",
        ),
        ({"timezone": "Mars/Olympus"}, "unknown time zone"),
        ({"safty": {}}, "safty: Extra inputs"),
    ],
)
def test_bad_policy_names_the_key(doc: dict[str, object], where: str) -> None:
    with pytest.raises(PolicyError, match=where):
        parse_policy(doc)


def test_bad_policy_files(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="cannot read"):
        load_policy(tmp_path / "nope.toml")
    bad = tmp_path / "p.toml"
    bad.write_text("version = [", encoding="utf-8")
    with pytest.raises(PolicyError, match="not valid toml"):
        load_policy(bad)


def test_policy_store_versions_and_listeners() -> None:
    store = PolicyStore()
    changes: list[tuple[int, int]] = []
    store.subscribe(lambda old, new: changes.append((old.version, new.version)))
    store.update(po_overdue_days=3)
    assert store.current.version == 2 and store.current.po_overdue_days == 3
    with pytest.raises(PolicyError, match="must be greater"):
        store.swap(Policy(version=2))
    assert store.version(1).po_overdue_days == 7
    with pytest.raises(PolicyError, match="no policy version 9"):
        store.version(9)
    assert changes == [(1, 2)]


def test_unknown_category() -> None:
    with pytest.raises(PolicyError, match="unknown exception category 'misc'"):
        Policy().category("misc")
    assert Policy().category("stock_shortage").colour == "#d62728"
