"""``orderflow erp check|sync|feed|reconcile``: the ERP bridge on the command line (R7, R6).

- ``check``: does the mapping fit the live ERP schema? (every missing table/column)
- ``sync --once`` / ``sync --follow --interval 1s``: ERP orders into the orderflow store
- ``feed``: orderflow's stage and actual delivery date as a JSONL/CSV file for the ERP
- ``reconcile``: ERP on-hand stock against orderflow's scanned stock, as a JSON report

The ERP is read through a read-only SQLAlchemy connection (``--erp URL``); the
orderflow store is ``--db`` (a SQLite file or a store URL). Errors are one line on
stderr with exit code 1.
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any

from orderflow.exceptions import InputError, OrderflowError, StoreError

if TYPE_CHECKING:
    from orderflow.adapters.erp_sql import SqlErpSource
    from orderflow.erp import ErpMapping
    from orderflow.service import OrderService

__all__ = ["add_erp_commands"]

DEMO_DB = "orderflow-demo.db"
DEFAULT_MAPPING = "kingdee-k3-wise"

Command = Callable[[argparse.Namespace], int]


class CommandError(OrderflowError):
    """A command failed; the message is one line."""


def _one_line(fn: Command) -> Command:
    """Make every error message of ``fn`` a single line (``main`` prints it)."""

    @functools.wraps(fn)
    def run(args: argparse.Namespace) -> int:
        try:
            return fn(args)
        except OrderflowError as exc:
            text = str(exc)
            if "\n" not in text:
                raise
            parts = [p.strip(" -") for p in text.splitlines() if p.strip()]
            raise CommandError("; ".join(parts)) from exc

    return run


# --- opening things -----------------------------------------------------------------------


def _service(db: str, *, must_exist: bool = False) -> OrderService:
    from orderflow.bootstrap import connect

    if "://" not in db:
        if must_exist and not Path(db).exists():
            raise InputError(f"no orderflow store at {db} (run 'orderflow erp sync' first)")
        db = f"sqlite:///{db}"
    return connect(db)


def _mapping(name: str) -> ErpMapping:
    from orderflow.erp import load_mapping

    return load_mapping(name)


def _safe_url(url: str) -> str:
    try:
        import sqlalchemy as sa

        return sa.make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "the ERP database"


@contextmanager
def _erp(url: str) -> Iterator[SqlErpSource]:
    """A read-only ERP source; database errors become one-line StoreErrors."""
    from orderflow._extras import require

    require("sqlalchemy", "erp")  # MissingExtra names the extra to install
    import sqlalchemy as sa

    from orderflow.adapters.erp_sql import SqlErpSource

    try:
        parsed = sa.make_url(url)
    except sa.exc.ArgumentError:
        raise InputError(f"--erp: not a database URL: {url!r}") from None
    if parsed.get_backend_name() == "sqlite":
        path = parsed.database or ""
        if path in ("", ":memory:") or not Path(path).exists():
            raise InputError(f"--erp: no SQLite database file at {path or '(none)'}")
    try:
        source = SqlErpSource(parsed)
    except (sa.exc.ArgumentError, sa.exc.NoSuchModuleError) as exc:
        raise InputError(f"--erp: cannot open {_safe_url(url)}: {exc}") from None
    try:
        yield source
    except sa.exc.SQLAlchemyError as exc:
        orig = getattr(exc, "orig", None) or exc
        first = str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__
        raise StoreError(f"reading the ERP at {_safe_url(url)} failed: {first}") from exc
    finally:
        source.close()


# --- commands -----------------------------------------------------------------------------


def cmd_check(args: argparse.Namespace) -> int:
    """Check the mapping against the live ERP schema."""
    from orderflow.erp import check_mapping

    mapping = _mapping(args.mapping)
    with _erp(args.erp) as source:
        result = check_mapping(source, mapping)
    if args.json:
        print(json.dumps(result.as_dict(), ensure_ascii=False, indent=2))
        return 0 if result.ok else 1
    for note in result.case_notes:
        print(f"note: {note}")
    result.raise_for_problems()
    tables = len(mapping.required_columns())
    print(f"mapping {mapping.name!r} fits the ERP schema ({tables} tables checked)")
    return 0


def cmd_sync(args: argparse.Namespace) -> int:
    """Import ERP orders into the orderflow store, once or polling."""
    from orderflow.erp import SyncReport, check_mapping, follow, parse_interval, sync_once
    from orderflow.service.erp_store import ServiceErpStore

    mapping = _mapping(args.mapping)
    interval = parse_interval(args.interval)
    if args.batch_size < 1:
        raise InputError(f"--batch-size must be >= 1, got {args.batch_size}")
    if args.max_runs is not None and args.max_runs < 1:
        raise InputError(f"--max-runs must be >= 1, got {args.max_runs}")
    svc = _service(args.db)
    try:
        store = ServiceErpStore(svc)
        with _erp(args.erp) as source:
            check_mapping(source, mapping).raise_for_problems()

            def show(report: SyncReport) -> None:
                if args.json:
                    print(json.dumps(report.as_dict(), ensure_ascii=False), flush=True)
                elif report.changed or report.quarantined or not args.follow:
                    print(report.summary(), flush=True)
                    for entry in report.new_quarantine:
                        for text in entry.message.splitlines():
                            print(f"  quarantined {entry.erp_id}: {text}", flush=True)

            if args.follow:
                follow(
                    source,
                    store,
                    mapping,
                    interval=interval,
                    max_runs=args.max_runs,
                    on_run=show,
                    batch_size=args.batch_size,
                    progress=False if args.quiet else None,
                )
            else:
                show(
                    sync_once(
                        source,
                        store,
                        mapping,
                        batch_size=args.batch_size,
                        progress=False if args.quiet else None,
                    )
                )
    finally:
        svc.store.close()
    return 0


def _since(text: str | None) -> dt.datetime | None:
    if text is None:
        return None
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise InputError(f"--since: not an ISO date/time: {text!r}") from None
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def cmd_feed(args: argparse.Namespace) -> int:
    """Write the outbound change feed (one row per ERP-linked order)."""
    from orderflow.erp import write_feed

    mapping = _mapping(args.mapping)
    since = _since(args.since)
    svc = _service(args.db, must_exist=True)
    try:
        orders = list(svc.store.orders())
        if args.out == "-":
            count = write_feed(orders, mapping, sys.stdout, format=args.format, since=since)
        else:
            try:
                count = write_feed(orders, mapping, args.out, format=args.format, since=since)
            except OSError as exc:
                raise InputError(f"--out: cannot write {args.out}: {exc.strerror}") from None
    finally:
        svc.store.close()
    where = "stdout" if args.out == "-" else args.out
    print(f"{count} feed row(s) written to {where} ({args.format})", file=sys.stderr)
    return 0


def _decimal(text: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value.is_finite() or value < 0:
        raise argparse.ArgumentTypeError(f"must be a number >= 0, got {text!r}")
    return value


def cmd_reconcile(args: argparse.Namespace) -> int:
    """Compare ERP on-hand stock with orderflow's scanned stock; write a JSON report."""
    from orderflow.adapters.rows import from_micros
    from orderflow.domain import Product
    from orderflow.erp import erp_stock, reconcile_stock
    from orderflow.serialization import from_json
    from orderflow.service import records

    mapping = _mapping(args.mapping)
    svc = _service(args.db, must_exist=True)
    try:
        with _erp(args.erp) as source:
            counted = erp_stock(source, mapping)
        erp_qty, unreadable = counted.totals, counted.unreadable
        with svc.store.transaction() as tx:
            tracked = {key: records.read_stock(tx, key) for key, _ in tx.docs(records.STOCK)}
            products = {key: from_json(body, Product) for key, body in tx.docs(records.PRODUCT)}
        components = sorted(set(erp_qty) | set(tracked))
        positions = [svc.stock(code) for code in components]
        last_scans = {
            code: from_micros(level.last_scan_us)
            for code, level in tracked.items()
            if level.last_scan_us
        }
        report = reconcile_stock(
            erp_qty,
            positions,
            generated_at=svc.clock.now(),
            orders=list(svc.store.orders()),
            products=products,
            last_scans=last_scans,
            tolerance=args.tolerance,
            basis=args.basis,
            demand_stages=(svc.workflow.definition.initial,),
            safety_factor=svc.policy.safety.regular,
            unreadable=unreadable,
            warehouses=counted.warehouses,
        )
    finally:
        svc.store.close()
    try:
        Path(args.out).write_text(report.to_json() + "\n", encoding="utf-8")
        if args.section_out:
            Path(args.section_out).write_text(
                json.dumps(report.health_section(), ensure_ascii=False, indent=1) + "\n",
                encoding="utf-8",
            )
    except OSError as exc:
        raise InputError(f"--out: cannot write {args.out}: {exc.strerror}") from None
    print(f"{report.health_section()['summary']}; report written to {args.out}")
    if unreadable:
        print(f"{len(unreadable)} ERP stock row(s) could not be read (see the report)")
    return 0


# --- the parser ---------------------------------------------------------------------------


def add_erp_commands(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add ``erp check|sync|feed|reconcile`` to the ``orderflow`` command's subparsers."""
    erp = subparsers.add_parser("erp", help="ERP bridge: check, sync, feed, reconcile (R7)")
    erp_sub = erp.add_subparsers(dest="erp_command", required=True)

    def common(p: argparse.ArgumentParser, *, erp_url: bool, db: bool = True) -> None:
        if erp_url:
            p.add_argument(
                "--erp",
                required=True,
                metavar="URL",
                help="SQLAlchemy URL of the ERP database (opened read-only)",
            )
        if db:
            p.add_argument(
                "--db", default=DEMO_DB, help="orderflow store: SQLite file or URL (%(default)s)"
            )
        p.add_argument(
            "--mapping",
            default=DEFAULT_MAPPING,
            help="mapping preset name or .toml/.json file (%(default)s)",
        )

    check = erp_sub.add_parser("check", help="check the mapping against the live ERP schema")
    common(check, erp_url=True, db=False)
    check.add_argument("--json", action="store_true", help="print the result as JSON")
    check.set_defaults(func=_one_line(cmd_check))

    sync = erp_sub.add_parser("sync", help="import ERP orders into orderflow")
    common(sync, erp_url=True)
    mode = sync.add_mutually_exclusive_group()
    mode.add_argument("--once", action="store_true", help="one run, then exit (default)")
    mode.add_argument("--follow", action="store_true", help="poll until interrupted")
    sync.add_argument("--interval", default="1s", help="poll interval for --follow (%(default)s)")
    sync.add_argument("--max-runs", type=int, default=None, help="stop --follow after N runs")
    sync.add_argument("--batch-size", type=int, default=500, help="orders per transaction")
    sync.add_argument("--json", action="store_true", help="print each run's report as JSON")
    sync.add_argument("--quiet", action="store_true", help="no progress bar")
    sync.set_defaults(func=_one_line(cmd_sync))

    feed = erp_sub.add_parser("feed", help="write the change feed for the ERP to import")
    common(feed, erp_url=False)
    feed.add_argument("--format", choices=["jsonl", "csv"], default="jsonl")
    feed.add_argument("--out", default="-", help="output file ('-': stdout; default)")
    feed.add_argument("--since", default=None, help="only orders changed since (ISO time)")
    feed.set_defaults(func=_one_line(cmd_feed))

    reconcile = erp_sub.add_parser(
        "reconcile", help="ERP on-hand vs scanned stock: JSON discrepancy report"
    )
    common(reconcile, erp_url=True)
    reconcile.add_argument("--out", default="erp-stock-report.json", help="report file")
    reconcile.add_argument(
        "--section-out",
        default=None,
        help="also write the table for the health report (orderflow report --section FILE)",
    )
    reconcile.add_argument(
        "--tolerance", type=_decimal, default=Decimal(0), help="ignore gaps up to this"
    )
    reconcile.add_argument("--basis", choices=["available", "on_hand"], default="available")
    reconcile.set_defaults(func=_one_line(cmd_reconcile))
