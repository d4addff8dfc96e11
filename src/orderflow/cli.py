"""The ``orderflow`` command: demo, simulate, report, order show, audit, relay, serve, slip,
warnings, erp, intake, risk."""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import fcntl
import json
import sqlite3
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from orderflow._batch import batch_gc
from orderflow.cli_erp import add_erp_commands
from orderflow.cli_events import add_events_commands
from orderflow.cli_evidence import add_evidence_commands, verify
from orderflow.cli_export import add_export_commands
from orderflow.cli_intake import add_intake_commands
from orderflow.cli_risk import add_risk_commands
from orderflow.cli_web import add_web_commands
from orderflow.exceptions import InputError, OrderflowError, UnreadableRow

if TYPE_CHECKING:
    from orderflow.domain import Order
    from orderflow.report import ReportSection
    from orderflow.service import OrderService
    from orderflow.simulate import PlantProfile

__all__ = ["main", "open_service"]

DEMO_DB = "orderflow-demo.db"


def open_service(
    db: str, *, frozen_at: dt.datetime | None = None, create: bool = False
) -> OrderService:
    """The service over ``--db`` (a SQLite path or a store URL). A read command
    (``create=False``) refuses a SQLite file that does not exist or is not an orderflow
    database, and never creates tables in it."""
    from orderflow.bootstrap import connect
    from orderflow.clock import FrozenClock

    url = db if "://" in db else f"sqlite:///{db}"
    path = url.removeprefix("sqlite:///").split("?")[0] if url.startswith("sqlite:///") else ""
    if not create and path and path != ":memory:":
        _check_orderflow_file(Path(path))
    clock = FrozenClock(frozen_at) if frozen_at is not None else None
    return connect(url, clock=clock)


def _check_orderflow_file(path: Path) -> None:
    if not path.exists():
        # a read command must not leave an empty database behind a typo
        raise InputError(f"no orderflow database at {path}; run 'orderflow simulate' or pass --db")
    if path.is_dir():
        raise InputError(f"{path} is a folder, not an orderflow database")
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
            found = conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'"
            ).fetchone()
    except sqlite3.DatabaseError:
        found = None
    if found is None:
        raise InputError(f"{path} is not an orderflow database (no orderflow tables in it)")


def _writable_file(value: str, option: str) -> Path:
    """``value`` as a file path whose folder exists and which is not a folder itself."""
    path = Path(value)
    if path.is_dir():
        raise InputError(f"{option} {value}: is a folder; name a file in it")
    if not path.parent.is_dir():
        raise InputError(f"{option} {value}: folder {path.parent} does not exist")
    return path


@contextlib.contextmanager
def _exclusive(path: Path) -> Iterator[None]:
    """Hold an advisory lock on ``path`` while a command rebuilds it; a second simulate
    (or --replace) meanwhile is refused instead of deleting a file in use."""
    lock = Path(str(path) + ".lock")
    with lock.open("a") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise InputError(
                f"{path} is being written by another orderflow process; wait for it to finish"
            ) from None
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
            lock.unlink(missing_ok=True)


def _month(text: str) -> tuple[int, int]:
    try:
        year, month = (int(p) for p in text.split("-"))
        dt.date(year, month, 1)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a month like 2026-03, got {text!r}") from None
    return year, month


def cmd_simulate(args: argparse.Namespace) -> int:
    """Simulate a plant year into a SQLite file."""
    from orderflow.simulate import PlantProfile

    # checked before any file is touched: bad parameters leave no empty database behind
    causes = getattr(args, "risk_causes", False)  # 'orderflow demo' has no such option
    profile = PlantProfile(orders=args.orders, year=args.year, risk_causes=causes)
    path = _writable_file(args.db, "--db")
    with _exclusive(path):
        return _simulate_into(path, profile, args)


def _simulate_into(path: Path, profile: PlantProfile, args: argparse.Namespace) -> int:
    from orderflow.simulate import simulate_year

    if path.exists():
        if not args.replace:
            print(f"{path} exists; pass --replace to start over", file=sys.stderr)
            return 2
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
    svc = open_service(
        create=True,
        db=str(path) + "?synchronous=" + args.synchronous,
        frozen_at=dt.datetime(args.year - 1, 12, 31, tzinfo=dt.UTC),
    )
    result = simulate_year(svc, profile, seed=args.seed, progress=not args.quiet)
    anchor = svc.audit.store_checkpoint()  # the year's log, anchored (R5)
    print(
        f"simulated {result.orders:,} orders: {result.transitions:,} transitions, "
        f"{result.refusals:,} refusals, {result.incidents:,} incidents, "
        f"{result.queries:,} customer queries, {result.warnings:,} overdue warnings, "
        f"{result.rescheduled:,} dates rescheduled in {result.seconds:.1f} s "
        f"({result.orders_per_second:,.0f} orders/s); checkpoint stored at {anchor.size:,} "
        "entries"
    )
    svc.store.close()
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    """Write the monthly health report (HTML + JSON)."""
    from orderflow.metrics import Period, compute_health
    from orderflow.report import build_report, render_html, render_json
    from orderflow.service.history import change_records, change_records_of

    sections = [_section(path) for path in args.section]
    out = _writable_file(args.out, "--out")
    json_out = _writable_file(args.json, "--json") if args.json else None
    svc = open_service(args.db)
    year, month = args.month
    policy = svc.policy
    period = Period.month(year, month, policy.timezone)

    def skip(exc: UnreadableRow) -> None:  # the month's figures go on without that row
        print(f"orderflow: skipped: {exc}", file=sys.stderr)

    start, end = period.utc_bounds()
    before = start - dt.timedelta(days=7)  # floor times may trail recording a little
    terminal = frozenset(svc.workflow.definition.terminal)
    stored = [
        o for o in svc.store.orders(on_unreadable=skip)
        # a year's other orders play no part in the month: keep only those in flight in it
        if o.created_at < end and not (o.stage in terminal and o.stage_entered_at < before)
    ]  # fmt: skip
    in_flight = {o.id for o in stored}
    orders = [o for o in stored if not args.factory or o.factory_id == args.factory]
    if args.factory and not orders:
        known = sorted({o.factory_id for o in stored})
        svc.store.close()
        raise InputError(
            f"--factory {args.factory}: no orders of that factory; known: {', '.join(known)}"
        )
    verified = {o.id for o in orders} if args.trust_verified else _verified_ids(svc, orders)
    started = time.perf_counter()
    incidents = svc.incidents()
    snapshot = compute_health(
        orders=orders,
        # only the in-flight orders' changes: a year of them grouped by order would be
        # the report's largest memory (every change of the others is outside the month)
        records=(r for r in change_records(svc.store) if r.order_id in in_flight),
        incidents=incidents,
        queries=svc.query_events(start, end),
        verified_order_ids=verified,
        policy=policy,
        period=period,
    )
    report = build_report(
        snapshot,
        sections=sections,
        policy=policy,
        generated_at=svc.clock.now(),
        orders=orders,
        records=change_records_of(svc.store, snapshot.order_ids()),
        incidents=incidents,
        factory=args.factory or "all factories",
    )
    out.write_text(render_html(report), encoding="utf-8")
    if json_out is not None:
        json_out.write_text(render_json(report), encoding="utf-8")
    print(
        f"report for {period.label} written to {args.out} in {time.perf_counter() - started:.1f} s"
    )
    for row in report.headline:
        print(f"  {row.label:45s} {row.value:>14s}   target {row.target or '-'}")
    svc.store.close()
    return 0


def _section(path: str) -> ReportSection:
    """An extra report table from JSON (e.g. ``orderflow erp reconcile --section-out``)."""
    from orderflow.report import ReportSection

    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        return ReportSection(**data)
    except (OSError, ValueError, TypeError) as exc:
        raise InputError(
            f"--section {path}: not a report section ({exc}); write one with "
            "'orderflow erp reconcile --section-out FILE'"
        ) from None


def _verified_ids(svc: OrderService, orders: list[Order]) -> set[str]:
    """Ids of orders whose chain verifies (the whole log verifies, so every chain does)."""
    svc.audit.verify()
    return {o.id for o in orders}


def cmd_warnings(args: argparse.Namespace) -> int:
    """List orders past their stage deadline and audit new warnings."""
    if args.limit < 0:
        raise InputError(f"--limit must be 0 or more, got {args.limit}")
    svc = open_service(args.db)
    found = svc.sweep_warnings()
    for w in found[: args.limit]:
        flag = "ESCALATED" if w.escalated else "warning"
        print(f"{w.number:18s} {w.stage:16s} overdue {w.overdue_hours:6.1f} h  {flag}")
    print(f"{len(found)} order(s) overdue")
    svc.store.close()
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    """Simulate a year, verify the audit log, write the report, print the headline."""
    args.db = args.db or DEMO_DB
    args.replace = True
    _writable_file(args.out, "--out")  # before a 3-minute simulation, not after it
    if args.json:
        _writable_file(args.json, "--json")
    started = time.perf_counter()
    cmd_simulate(args)
    verify(args.db, deep=False)
    args.month = args.month or (args.year, 11)
    args.factory = ""
    args.trust_verified = True
    args.json = args.json or "report.json"
    args.section = []
    cmd_report(args)
    if args.relay:
        _demo_relay(args.db, args.relay)
    print(
        f"demo finished in {time.perf_counter() - started:.1f} s (peak memory "
        f"{_peak_mib():,.0f} MiB); open {args.out} in a browser"
    )
    return 0


def _peak_mib() -> float:
    """This process's peak resident memory in MiB (Linux reports KiB, macOS bytes)."""
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1 << 20) if sys.platform == "darwin" else peak / 1024


def _demo_relay(db: str, target: str) -> None:
    """Relay the year's events to ``target`` if it is reachable; say what happened."""
    from orderflow.cli_events import open_sink
    from orderflow.events import DeliveryError, Relay

    try:
        sink = open_sink(target)
    except DeliveryError as exc:
        print(f"events: not relayed ({exc})")
        return
    svc = open_service(db)
    try:
        report = Relay(svc.store, sink, batch=5_000).run()
    finally:
        sink.close()
        svc.store.close()
    print(f"events: {report.delivered:,} published to {target}")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``orderflow`` command."""
    parser = argparse.ArgumentParser(prog="orderflow", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    def sim_options(p: argparse.ArgumentParser, db_default: str | None) -> None:
        p.add_argument("--db", default=db_default, help="SQLite file (default %(default)s)")
        p.add_argument("--orders", type=int, default=147_000, help="orders in the year")
        p.add_argument("--year", type=int, default=2026)
        p.add_argument("--seed", type=int, default=2026)
        p.add_argument(
            "--synchronous",
            default="NORMAL",
            choices=["NORMAL", "FULL"],
            help="SQLite durability while simulating (default %(default)s)",
        )
        p.add_argument("--quiet", action="store_true", help="no progress bar")

    demo = sub.add_parser("demo", help="simulate a year, verify the audit log, write report.html")
    sim_options(demo, DEMO_DB)
    demo.add_argument("--out", default="report.html")
    demo.add_argument("--json", default="report.json")
    demo.add_argument("--month", type=_month, default=None, help="report month, e.g. 2026-11")
    demo.add_argument(
        "--relay", default=None, help="also publish the year's events, e.g. nats://127.0.0.1:4222"
    )
    demo.set_defaults(func=cmd_demo)

    simulate = sub.add_parser("simulate", help="simulate a plant year into a SQLite file")
    sim_options(simulate, DEMO_DB)
    simulate.add_argument("--replace", action="store_true", help="overwrite an existing file")
    simulate.add_argument(
        "--risk-causes", action="store_true",
        help="add causes of late delivery for 'orderflow risk train --db' (R13)",
    )  # fmt: skip
    simulate.set_defaults(func=cmd_simulate)

    report = sub.add_parser("report", help="write the monthly health report")
    report.add_argument("--db", default=DEMO_DB)
    report.add_argument("--month", type=_month, required=True, help="e.g. 2026-03")
    report.add_argument("--out", default="report.html")
    report.add_argument("--json", default=None)
    report.add_argument("--factory", default="")
    report.add_argument(
        "--section", action="append", default=[], help="extra table (JSON), e.g. stock gaps"
    )
    report.add_argument(
        "--trust-verified",
        action="store_true",
        help="skip the audit verification behind traceability",
    )
    report.set_defaults(func=cmd_report)

    warnings = sub.add_parser("warnings", help="orders past their stage time limit")
    warnings.add_argument("--db", default=DEMO_DB)
    warnings.add_argument("--limit", type=int, default=50)
    warnings.set_defaults(func=cmd_warnings)
    add_evidence_commands(sub)
    add_export_commands(sub)
    add_events_commands(sub)
    add_web_commands(sub)
    add_erp_commands(sub)
    add_intake_commands(sub)
    add_risk_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; errors are one-line messages with exit code 1."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        with batch_gc():  # every command is a batch job over many orders
            code: int = args.func(args)
    except OrderflowError as exc:
        notes = "; ".join(getattr(exc, "__notes__", ()))
        print(f"orderflow: {exc}" + (f" ({notes})" if notes else ""), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("orderflow: interrupted", file=sys.stderr)
        return 130
    return code


if __name__ == "__main__":
    raise SystemExit(main())
