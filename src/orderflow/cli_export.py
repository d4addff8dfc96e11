"""The log for other tools, and last year under another policy, from the command line.

``orderflow export ocel`` (OCEL 2.0 JSON, or SQLite by ``--format sqlite`` or a
``.sqlite`` suffix), ``orderflow export xes`` (one trace per order) and ``orderflow
whatif`` (a recorded period replayed under other policies, side by side).
"""

from __future__ import annotations

import argparse
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


def add_export_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``export ocel`` and ``export xes``."""
    from orderflow.cli import DEMO_DB

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
