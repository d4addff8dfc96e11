"""The curated public API is pinned: sorted, importable, documented."""

from __future__ import annotations

import subprocess
import sys

import orderflow


def test_all_is_sorted_and_resolves() -> None:
    names = [n for n in orderflow.__all__ if n != "__version__"]
    assert names == sorted(names)
    for name in orderflow.__all__:
        value = getattr(orderflow, name)
        if name != "__version__":
            assert value.__doc__, f"{name} has no docstring"


def test_import_is_lazy() -> None:
    code = "import sys, orderflow; print('pendulum' in sys.modules, 'attrs' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_unknown_attribute() -> None:
    import pytest

    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        _ = orderflow.Nope


def test_py_typed_shipped() -> None:
    from importlib.resources import files

    assert files("orderflow").joinpath("py.typed").is_file()
