"""orderflow: a reliable order response chain for manufacturers.

The names below are the supported public API; everything else may change.
"""

from __future__ import annotations

from orderflow.clock import Clock, FrozenClock, SystemClock
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
    StoreError,
    TamperDetected,
    TransitionRefused,
    UnknownAddress,
    WorkflowError,
)

__version__ = "0.1.0"

__all__ = [
    "AccessDenied",
    "AuditError",
    "Clock",
    "ConcurrencyConflict",
    "DefinitionError",
    "FrozenClock",
    "GeoError",
    "IdempotencyConflict",
    "InputError",
    "InvalidTransition",
    "MappingError",
    "MissingExtra",
    "NotFound",
    "OrderflowError",
    "PolicyError",
    "ProofError",
    "StoreError",
    "SystemClock",
    "TamperDetected",
    "TransitionRefused",
    "UnknownAddress",
    "WorkflowError",
    "__version__",
]
