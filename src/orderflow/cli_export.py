"""The log for other tools, and last year under another policy, from the command line.

``orderflow export ocel`` (OCEL 2.0 JSON, or SQLite by ``--format sqlite`` or a
``.sqlite`` suffix), ``orderflow export xes`` (one trace per order) and ``orderflow
whatif`` (a recorded period replayed under other policies, side by side).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import TYPE_CHECKING

from orderflow.exceptions import InputError

if TYPE_CHECKING:
    from orderflow.export import ExportSummary
    from orderflow.service import OrderService

__all__ = ["add_export_commands"]

_SQLITE_SUFFIXES = (".sqlite", ".sqlite3", ".db")


def _service(db: str) -> OrderService:
    from orderflow.cli import open_service

    return open_service(db)


def _new_file(text: str, *, overwrite: bool = True) -> Path:
    """``--out``: its folder must exist; checked before any work starts."""
    path = Path(text)
    if not path.parent.is_dir():
        raise InputError(f"--out {path}: folder {path.parent} does not exist; create it first")
    if path.is_dir():
        raise InputError(f"--out {path}: is a folder; name the file to write")
    if path.exists() and not overwrite:
        raise InputError(f"--out {path} exists; remove it or choose another name")
    return path


def _report(summary: ExportSummary, what: str) -> None:
    size = summary.bytes / 1_048_576
    traces = f"{summary.traces:,} traces, " if summary.traces else ""
    print(
        f"{what} written to {summary.path}: {traces}{summary.events:,} events, "
        + ("" if summary.traces else f"{summary.objects:,} objects, ")
        + f"{size:,.1f} MiB in {summary.seconds:.1f} s"
    )


def cmd_export_ocel(args: argparse.Namespace) -> int:
    """Write the audit log as OCEL 2.0 (JSON, or SQLite)."""
    from orderflow.export import write_ocel_json, write_ocel_sqlite

    fmt = args.format or ("sqlite" if args.out.endswith(_SQLITE_SUFFIXES) else "json")
    # an SQLite export builds a new database: it never writes into an existing file
    out = _new_file(args.out, overwrite=fmt == "json")
    svc = _service(args.db)
    try:
        if fmt == "sqlite":
            _report(write_ocel_sqlite(svc.store, out), "OCEL 2.0 SQLite")
        else:
            _report(write_ocel_json(svc.store, out), "OCEL 2.0 JSON")
    finally:
        svc.store.close()
    return 0


def cmd_export_xes(args: argparse.Namespace) -> int:
    """Write the audit log as XES, one trace per order."""
    from orderflow.export import write_xes

    out = _new_file(args.out)
    svc = _service(args.db)
    try:
        _report(write_xes(svc.store, out), "XES")
    finally:
        svc.store.close()
    return 0


def cmd_whatif(args: argparse.Namespace) -> int:
    """Replay a recorded period under other policies; print and write the comparison."""
    from orderflow.policy import load_policy
    from orderflow.whatif import Scenario, compare, render_table, write_section
    from orderflow.whatif.jobs import check_jobs

    if not 1 <= args.months <= 24:
        raise InputError(f"--months {args.months}: replay between 1 and 24 months")
    if not args.policy:
        raise InputError("give at least one --policy FILE (a policy as 'orderflow' loads it)")
    check_jobs(args.jobs)
    scenarios = [Scenario(Path(p).stem, load_policy(p)) for p in args.policy]
    html_out = _new_file(args.html)
    json_out = _new_file(args.section_out) if args.section_out else None
    svc = _service(args.db)
    started = time.perf_counter()
    try:
        year, month = args.month
        comparison = compare(svc, year, month, args.months, scenarios, jobs=args.jobs)
    finally:
        svc.store.close()
    print(render_table(comparison))
    write_section(comparison, html_out, json_out)
    print(
        f"replayed {comparison.orders:,} orders under {len(scenarios)} "
        f"polic{'y' if len(scenarios) == 1 else 'ies'} in {time.perf_counter() - started:.1f} s; "
        f"HTML section written to {html_out}"
        + (f", report section (JSON) to {json_out}" if json_out else "")
    )
    return 0


def add_export_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``export ocel``, ``export xes`` and ``whatif``."""
    from orderflow.cli import DEMO_DB, _month

    export = sub.add_parser("export", help="the audit log for process mining (OCEL 2.0, XES)")
    export_sub = export.add_subparsers(dest="export_command", required=True)
    ocel = export_sub.add_parser("ocel", help="OCEL 2.0: JSON (default) or SQLite")
    ocel.add_argument("--db", default=DEMO_DB)
    ocel.add_argument("--out", required=True, help="e.g. log.jsonocel or log.sqlite")
    ocel.add_argument(
        "--format", choices=["json", "sqlite"], default=None,
        help="default: sqlite for a .sqlite/.sqlite3/.db file, else json",
    )  # fmt: skip
    ocel.set_defaults(func=cmd_export_ocel)
    xes = export_sub.add_parser("xes", help="XES (IEEE 1849), one trace per order")
    xes.add_argument("--db", default=DEMO_DB)
    xes.add_argument("--out", required=True, help="e.g. log.xes")
    xes.set_defaults(func=cmd_export_xes)

    whatif = sub.add_parser("whatif", help="replay a recorded period under other policies")
    whatif.add_argument("--db", default=DEMO_DB)
    whatif.add_argument("--month", type=_month, required=True, help="first month, e.g. 2026-03")
    whatif.add_argument("--months", type=int, default=1, help="months to replay (default 1)")
    whatif.add_argument(
        "--policy", action="append", default=[], metavar="FILE",
        help="a policy file (TOML or JSON); repeat to compare several",
    )  # fmt: skip
    whatif.add_argument(
        "--jobs", type=int, default=1, metavar="N",
        help="replay up to N policies at once, each in a child process with its own "
        "replayed store (memory: N times one replay's; default 1)",
    )  # fmt: skip
    whatif.add_argument("--html", default="whatif.html", help="HTML section to write")
    whatif.add_argument(
        "--section-out", default=None, metavar="FILE",
        help="also write it as a report section (JSON) for 'orderflow report --section'",
    )  # fmt: skip
    whatif.set_defaults(func=cmd_whatif)
