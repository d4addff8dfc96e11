"""Import an optional dependency or say which extra installs it."""

from __future__ import annotations

import importlib
from types import ModuleType

from orderflow.exceptions import MissingExtra


def require(module: str, extra: str) -> ModuleType:
    """Import ``module`` or raise :class:`MissingExtra` naming ``orderflow[extra]``."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingExtra(extra, module) from exc
