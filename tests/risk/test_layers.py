"""Layers point down: the rule modules import no adapter and no optional package."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

RISK = Path(__file__).parents[2] / "src" / "orderflow" / "risk"
CORE = ("flags", "rules", "rates", "zones", "carriers", "drawings", "sources", "features")
OPTIONAL = ("lightgbm", "numpy", "orderflow.adapters", "orderflow.service", "orderflow.web")


def _top_level_imports(path: Path) -> list[str]:
    names = []
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
    return names


@pytest.mark.parametrize("module", CORE)
def test_core_rule_modules_import_nothing_above_them(module: str) -> None:
    imported = _top_level_imports(RISK / f"{module}.py")
    bad = [n for n in imported if n.startswith(OPTIONAL)]
    assert bad == [], f"orderflow.risk.{module} imports {bad}"


def test_importing_the_rules_loads_no_model_library() -> None:
    # (numpy comes with shapely, a core dependency; LightGBM and the rate history only
    # when a model is trained or a rate is first needed)
    code = (
        "import sys, orderflow.risk, orderflow.service;"
        "print(sorted(m for m in ('lightgbm', 'currency_converter') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
