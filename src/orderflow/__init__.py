"""orderflow: a reliable order response chain for manufacturers.

The names in ``__all__`` are the supported public API; everything else may change.
Names are imported lazily (PEP 562) so that ``import orderflow`` stays cheap and the
stdlib-only audit verifier (``python -m orderflow.audit.verify``) runs without the
third-party dependencies of the rest of the library.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from orderflow.exceptions import (
    AccessDenied,
    AuditError,
    ConcurrencyConflict,
    DefinitionError,
    GeoError,
    IdempotencyConflict,
    InputError,
    InvalidTransition,
    MappingError,
    MissingExtra,
    NotFound,
    OrderflowError,
    PolicyError,
    ProofError,
    SlipLocked,
    StoreError,
    TamperDetected,
    TransitionRefused,
    UnknownAddress,
    UnreadableRow,
    WorkflowError,
)

if TYPE_CHECKING:
    from orderflow.bootstrap import connect
    from orderflow.clock import Clock, FrozenClock, SystemClock
    from orderflow.domain import (
        BomLine,
        Component,
        Customer,
        InboundPO,
        Order,
        OrderLine,
        OrderNumber,
        POStatus,
        Product,
        ProductKind,
        StockPosition,
        new_order,
    )
    from orderflow.policy import Policy, PolicyStore, load_policy, parse_policy
    from orderflow.retry import retry_on_conflict
    from orderflow.service import HistoryEntry, OrderDraft, OrderService, Submission
    from orderflow.workflow import (
        CapacitySchedule,
        CapacitySlot,
        ChangeRecord,
        Facts,
        GuardRegistry,
        GuardResult,
        Workflow,
        WorkflowDefinition,
        default_definition,
        load_definition,
    )

__version__ = "0.2.0.dev0"

_LAZY = {
    "orderflow.bootstrap": ("connect",),
    "orderflow.service": ("HistoryEntry", "OrderDraft", "OrderService", "Submission"),
    "orderflow.clock": ("Clock", "FrozenClock", "SystemClock"),
    "orderflow.domain": (
        "BomLine",
        "Component",
        "Customer",
        "InboundPO",
        "Order",
        "OrderLine",
        "OrderNumber",
        "POStatus",
        "Product",
        "ProductKind",
        "StockPosition",
        "new_order",
    ),
    "orderflow.policy": ("Policy", "PolicyStore", "load_policy", "parse_policy"),
    "orderflow.retry": ("retry_on_conflict",),
    "orderflow.workflow": (
        "CapacitySchedule",
        "CapacitySlot",
        "ChangeRecord",
        "Facts",
        "GuardRegistry",
        "GuardResult",
        "Workflow",
        "WorkflowDefinition",
        "default_definition",
        "load_definition",
    ),
}
_WHERE = {name: module for module, names in _LAZY.items() for name in names}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'orderflow' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = [
    "AccessDenied",
    "AuditError",
    "BomLine",
    "CapacitySchedule",
    "CapacitySlot",
    "ChangeRecord",
    "Clock",
    "Component",
    "ConcurrencyConflict",
    "Customer",
    "DefinitionError",
    "Facts",
    "FrozenClock",
    "GeoError",
    "GuardRegistry",
    "GuardResult",
    "HistoryEntry",
    "IdempotencyConflict",
    "InboundPO",
    "InputError",
    "InvalidTransition",
    "MappingError",
    "MissingExtra",
    "NotFound",
    "Order",
    "OrderDraft",
    "OrderLine",
    "OrderNumber",
    "OrderService",
    "OrderflowError",
    "POStatus",
    "Policy",
    "PolicyError",
    "PolicyStore",
    "Product",
    "ProductKind",
    "ProofError",
    "SlipLocked",
    "StockPosition",
    "StoreError",
    "Submission",
    "SystemClock",
    "TamperDetected",
    "TransitionRefused",
    "UnknownAddress",
    "UnreadableRow",
    "Workflow",
    "WorkflowDefinition",
    "WorkflowError",
    "__version__",
    "connect",
    "default_definition",
    "load_definition",
    "load_policy",
    "new_order",
    "parse_policy",
    "retry_on_conflict",
]
