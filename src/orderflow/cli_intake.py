"""``orderflow intake PHOTO... [--db URL] [--json]``: contract photos -> order draft (R12).

The photos are the pages of one contract, in page order. The command prints the
draft and every field a person must check; it never submits. Customers and products
are matched against the store at ``--db`` (a SQLite file or a store URL) or, without
it, against the synthetic demo master data (the one ``benchmarks/bench_intake.py``
uses). Needs the ``ocr`` extra: ``pip install "orderflow[ocr]"``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from orderflow.exceptions import InputError
from orderflow.intake import ContractIntake, IntakeResult, MasterData
from orderflow.serialization import from_json, unstructure

__all__ = ["add_intake_commands", "cmd_intake", "format_result"]


def add_intake_commands(sub: Any) -> None:
    """Register ``intake`` on an ``argparse`` subparsers object."""
    p = sub.add_parser(
        "intake",
        help="read contract photos into an order draft to review (extra ocr)",
        description=__doc__.splitlines()[0] if __doc__ else None,
    )
    p.add_argument("photos", nargs="+", help="the contract's page photos, in page order")
    p.add_argument("--db", default=None, help="store to match against (default: demo data)")
    p.add_argument("--json", action="store_true", help="print the full result as JSON")
    p.add_argument("--factory", default="NB1", help="factory of the draft (default %(default)s)")
    p.set_defaults(func=cmd_intake)


def _master(db: str | None) -> MasterData:
    if db is None:
        from orderflow.intake.synthetic import demo_master

        return demo_master()
    from orderflow.bootstrap import open_store
    from orderflow.domain.master import Customer, Product
    from orderflow.service import records

    if "://" not in db:
        if not Path(db).exists():
            raise InputError(f"no orderflow store at {db}: give an existing file or a store URL")
        db = f"sqlite:///{db}"
    store = open_store(db)
    try:
        with store.transaction() as tx:
            customers = [from_json(b, Customer) for _, b in tx.docs(records.CUSTOMER)]
            products = [from_json(b, Product) for _, b in tx.docs(records.PRODUCT)]
    finally:
        store.close()
    if not customers or not products:
        raise InputError(f"the store at {db} has no customers or no products to match against")
    return MasterData(customers, products)


def format_result(result: IntakeResult) -> str:
    """The draft and the fields to check, as plain text (zh-CN first, then English)."""
    out = []
    d = result.draft
    if d is None:
        out.append("未生成订单草稿 / no draft: the fields below must be completed first")
    else:
        out.append(
            f"订单草稿 / draft (not submitted): customer {d.customer_id}, factory "
            f"{d.factory_id}, requested {d.requested_date.isoformat()}"
        )
        out.append(f"  交货地址 / delivery address: {d.delivery_address}")
        out.extend(f"  {ln.product}  x {ln.qty}  @ {ln.unit_price}" for ln in d.lines)
    c = result.contract
    out.append(
        f"合同 / contract {c.number.value or '?'}: buyer {c.buyer.value or '?'}; "
        f"seller {c.seller.value or '?'}; signature page "
        f"{'yes' if c.signature.value else 'no'}"
    )
    if result.review:
        out.append(f"需人工核对 / to check ({len(result.review)}):")
        for item in result.review:
            where = ""
            if item.region is not None:
                r = item.region
                where = f"  [page {r.page + 1} x{r.x0}-{r.x1} y{r.y0}-{r.y1}]"
            out.append(f"  - {item.field}: {item.message}{where}")
    else:
        out.append("无需核对 / nothing to check")
    out.extend(f"sha256 page {i + 1}: {h}" for i, h in enumerate(result.image_sha256))
    return "\n".join(out)


def cmd_intake(args: argparse.Namespace) -> int:
    """Read the photos, print the draft; exit 0 when nothing needs checking, else 2."""
    from orderflow.adapters.ocr_rapid import RapidOcrEngine
    from orderflow.geo import TableGeocoder
    from orderflow.geo.china import ChinaGeocoder

    geocoder = ChinaGeocoder.builtin(finer=TableGeocoder.builtin())
    engine = RapidOcrEngine()
    intake = ContractIntake(engine, _master(args.db), geocoder, default_factory=args.factory)
    result = intake.read_files(args.photos)
    if args.json:
        print(json.dumps(unstructure(result), ensure_ascii=False, indent=2, sort_keys=True))
    else:
        print(format_result(result))
    return 2 if result.needs_review else 0
