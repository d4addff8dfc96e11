"""Every benchmark script runs to its end at a tiny size and prints the line its figure is
read from.

Performance claims live in ``benchmarks/``, not in timed tests, and nobody runs those
scripts between the times someone measures by hand: a script that no longer runs (an API
it calls changed, an argument it mishandles) would only be found then. Here each one runs
at a tiny size in its own process, as a person runs it. No figure is checked, only that
the script finishes and prints what it measures; under ``CI=true`` also the lines that
need the real services (PostgreSQL, NATS), which CI always has.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
CI = os.environ.get("CI") == "true"

# script -> (arguments, a line it always prints, a line it prints with the services)
CASES: dict[str, tuple[list[str], str, str | None]] = {
    "bench_audit.py": (["--orders", "50", "--transitions", "2"], r"verify_log: 100 entries", None),
    "bench_baseline.py": (
        ["--baseline", str(BENCHMARKS.parent / "src"), "--orders", "50", "--rounds", "1"],
        r"best this tree .* the baseline",
        None,
    ),
    "bench_erp.py": (["--orders", "50", "--latency-orders", "5"], r"latency \(5 orders", None),
    "bench_geo.py": (["--points", "300", "--factories", "3"], r"disagreements +0\n", None),
    "bench_group.py": (
        ["--orders", "16", "--per-call-orders", "8"],
        r"sqlite, 1 process +[\d,]+ orders/s",
        r"postgresql, 4 processes +[\d,]+ orders/s +[\d.]+x sqlite .* \+ server",
    ),
    "bench_intake.py": (["--contracts", "2"], r"\nbuyer +[\d.]+%", None),
    "bench_lookup.py": (["--orders", "100", "--lookups", "50"], r"paper slip status", None),
    "bench_relay.py": (
        ["--orders", "20", "--rounds", "1"],
        r"write path, 20 orders",
        r"relay to nats://\S+: 220 events",
    ),
    "bench_risk.py": (
        ["--orders", "300", "--rounds", "5", "--scored", "5"],
        r"model \(LightGBM\) +[\d.]+",
        None,
    ),
    "bench_store.py": (
        ["--orders", "50", "--threads", "2"],
        r"SQLite file, synchronous=FULL +[\d,]+",
        r"PostgreSQL, 1 thread +[\d,]+",
    ),
    "bench_web.py": (
        ["--orders", "200", "--tokens", "20", "--clients", "2", "--seconds", "1"],
        r"customer page /t/\{code\} +[\d,]+ req/s",
        None,
    ),
    "bench_whatif.py": (["--orders", "200"], r"kitting refusals \d+ / \d+; identical", None),
    "bench_whatif_jobs.py": (
        ["--orders", "200", "--month", "2026-06", "--policies", "3"],
        r"jobs=2 / jobs=1: [\d.]+x faster; comparisons identical",
        None,
    ),
    "bench_workflow.py": (
        ["--orders", "50", "--psm-orders", "10"],
        r"ratio orderflow / python-statemachine +[\d.]+x",
        None,
    ),
    "bench_year.py": (
        ["--orders", "50", "--pg-orders", "20", "--keyless-orders", "20"],
        r"sqlite +50 orders .* orders/s",
        r"postgresql +20 orders .* orders/s",
    ),
}


def test_every_benchmark_has_a_case() -> None:
    """A new benchmark script gets a case here, or this fails."""
    assert sorted(p.name for p in BENCHMARKS.glob("bench_*.py")) == sorted(CASES)


@pytest.mark.parametrize("script", sorted(CASES))
def test_benchmark_runs(script: str, tmp_path: Path) -> None:
    args, always, with_services = CASES[script]
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / script), *args],
        cwd=tmp_path,  # whatever a script leaves behind stays out of the checkout
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, f"{script} failed:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    assert re.search(always, done.stdout), done.stdout
    if CI and with_services is not None:
        assert re.search(with_services, done.stdout), done.stdout
