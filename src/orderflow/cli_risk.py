"""Delivery risk from the command line (R13): train and apply the model, show the flags.

``orderflow risk train [--db URL] [--orders N] --out model.txt`` trains on a store's
history, or without ``--db`` on a simulated history of ``--orders`` orders (200,000 by
default); ``orderflow risk score NUMBER --db URL --model model.txt`` scores one order
and names its three largest reasons; ``orderflow risk flags NUMBER --db URL`` evaluates
the three rules now. Every option is checked before any work starts.
"""

from __future__ import annotations

import argparse
import time
from typing import TYPE_CHECKING

from orderflow.exceptions import InputError, NotFound

if TYPE_CHECKING:
    from orderflow.domain import Order
    from orderflow.service import OrderService

__all__ = ["add_risk_commands"]

_MAX_ORDERS = 5_000_000


def _order(svc: OrderService, number: str) -> Order:
    order = svc.find(number=number)
    if order is None:
        raise NotFound("order", number, f"订单不存在 / no order numbered {number} in this store")
    return order


def cmd_risk_train(args: argparse.Namespace) -> int:
    """Train the delivery-risk model and save it."""
    from orderflow.cli import _writable_file

    out = _writable_file(args.out, "--out")
    if args.db is None and not 1_000 <= args.orders <= _MAX_ORDERS:
        raise InputError(f"--orders {args.orders}: simulate between 1,000 and {_MAX_ORDERS:,}")
    if not 10 <= args.rounds <= 5_000:
        raise InputError(f"--rounds {args.rounds}: between 10 and 5,000 boosting rounds")
    from orderflow._extras import require

    require("lightgbm", "risk")  # before any work: a missing extra is named at once
    from orderflow.risk.model import RiskModel

    started = time.perf_counter()
    if args.db is not None:
        from orderflow.cli import open_service
        from orderflow.risk.dataset import records_from_store

        svc = open_service(args.db)
        try:
            records = records_from_store(svc.store, timezone=svc.policy.timezone)
        finally:
            svc.store.close()
        source = f"store {args.db}"
    else:
        from orderflow.risk.history import simulate_history

        records = simulate_history(args.orders, seed=args.seed)
        source = f"simulated history (seed {args.seed})"
    prepared = time.perf_counter() - started
    model = RiskModel.train(records, rounds=args.rounds)
    model.save(out)
    meta = model.meta
    print(
        f"trained on {meta['rows']:,} orders from {source} ({meta['late_share']:.1%} late) in "
        f"{meta['train_seconds']:.1f} s (data {prepared:.1f} s); model written to {out}"
    )
    return 0


def cmd_risk_score(args: argparse.Namespace) -> int:
    """Score one order with a saved model and print its three largest reasons."""
    from orderflow.risk.model import RiskModel

    model = RiskModel.load(args.model)  # checked before the store is read
    from orderflow.cli import open_service
    from orderflow.risk.dataset import records_from_store

    svc = open_service(args.db)
    try:
        order = _order(svc, args.number)
        (record,) = records_from_store(
            svc.store, until_order=order.id, timezone=svc.policy.timezone
        )
    finally:
        svc.store.close()
    score = model.score(record)
    print(str(score).replace(order.id, order.number, 1))
    return 0


def cmd_risk_flags(args: argparse.Namespace) -> int:
    """Evaluate the three rules for one order now."""
    from orderflow.cli import open_service

    svc = open_service(args.db)
    try:
        order = _order(svc, args.number)
        flags = svc.risk_flags(order.id, actor="orderflow-cli")
    finally:
        svc.store.close()
    if not flags:
        print(f"{order.number}: 无风险提示 / no risk flags")
    for flag in flags:
        print(f"{order.number}: [{flag.code}] {flag.message}")
        print(f"  建议: {flag.recommendation_zh}")
        print(f"  advice: {flag.recommendation_en}")
    return 0


def add_risk_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``risk train``, ``risk score`` and ``risk flags``."""
    from orderflow.cli import DEMO_DB

    risk = sub.add_parser("risk", help="delivery-risk flags and model (R13)")
    risk_sub = risk.add_subparsers(dest="risk_command", required=True)
    train = risk_sub.add_parser("train", help="train the delivery-risk model (risk extra)")
    train.add_argument(
        "--db", default=None, help="train on this store's history (default: a simulated one)"
    )
    train.add_argument(
        "--orders", type=int, default=200_000, help="simulated orders (default %(default)s)"
    )
    train.add_argument("--seed", type=int, default=13, help="seed of the simulated history")
    train.add_argument("--rounds", type=int, default=200, help="boosting rounds")
    train.add_argument("--out", required=True, help="model file to write, e.g. model.txt")
    train.set_defaults(func=cmd_risk_train)
    score = risk_sub.add_parser("score", help="score one order with a saved model")
    score.add_argument("number", help="order number, e.g. HY20260122-887")
    score.add_argument("--db", default=DEMO_DB)
    score.add_argument("--model", required=True, help="a model file from 'orderflow risk train'")
    score.set_defaults(func=cmd_risk_score)
    flags = risk_sub.add_parser("flags", help="the three rules' flags for one order, now")
    flags.add_argument("number", help="order number, e.g. HY20260122-887")
    flags.add_argument("--db", default=DEMO_DB)
    flags.set_defaults(func=cmd_risk_flags)
