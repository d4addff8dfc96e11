"""The order aggregate and the master data around it (R1, R6, R11).

All classes are frozen attrs value objects; money and quantities are
:class:`~decimal.Decimal`, never float.
"""

from __future__ import annotations

from orderflow.domain.incident import Incident, open_incident, resolve_incident
from orderflow.domain.master import BomLine, Component, Customer, Product, ProductKind
from orderflow.domain.order import (
    Order,
    OrderLine,
    OrderNumber,
    new_order,
    query_token_hash,
)
from orderflow.domain.stock import InboundPO, POStatus, StockPosition

__all__ = [
    "BomLine",
    "Component",
    "Customer",
    "InboundPO",
    "Incident",
    "Order",
    "OrderLine",
    "OrderNumber",
    "POStatus",
    "Product",
    "ProductKind",
    "StockPosition",
    "new_order",
    "open_incident",
    "query_token_hash",
    "resolve_incident",
]
