"""Hypothesis entry point: registers orderflow's strategies for ``st.from_type``.

Hypothesis runs entry points while it is itself being imported, possibly from inside
``import orderflow.testing.strategies``; so each registered strategy is *deferred* and
looks the real strategy up only when first drawn.
"""

from __future__ import annotations

import importlib
from typing import Any

_TYPES = (
    ("orderflow.domain", "Customer", "customers"),
    ("orderflow.domain", "Component", "components"),
    ("orderflow.domain", "BomLine", "bom_lines"),
    ("orderflow.domain", "Product", "products"),
    ("orderflow.domain", "OrderLine", "order_lines"),
    ("orderflow.domain", "OrderNumber", "order_numbers"),
    ("orderflow.domain", "Order", "orders"),
    ("orderflow.domain", "StockPosition", "stock_positions"),
    ("orderflow.domain", "InboundPO", "inbound_pos"),
    ("orderflow.policy", "Policy", "policies"),
)


def _lazy(name: str) -> Any:
    from hypothesis import strategies as st

    def build() -> Any:
        return getattr(importlib.import_module("orderflow.testing.strategies"), name)()

    return st.deferred(build)


def setup_hook() -> None:
    """Register a deferred strategy for each public value type."""
    from hypothesis import strategies as st

    for module, cls_name, strategy in _TYPES:
        cls = getattr(importlib.import_module(module), cls_name)
        st.register_type_strategy(cls, _lazy(strategy))
