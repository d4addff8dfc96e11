"""The service layer: use cases over one unit of work (R2, R5, R6, R9, R11).

:class:`OrderService` is the facade an integrator holds; each of its methods is a use
case in a small module (:mod:`~orderflow.service.orders`, :mod:`~orderflow.service.scans`,
:mod:`~orderflow.service.incidents`, :mod:`~orderflow.service.queries`,
:mod:`~orderflow.service.policies`, :mod:`~orderflow.service.masterdata`) over one
:class:`~orderflow.service.runtime.Runtime`.
"""

from __future__ import annotations

from orderflow.service.auditing import AuditReader
from orderflow.service.checkpoints import StoredCheckpoint
from orderflow.service.effects import DEFAULT_EFFECTS, Effect, EffectContext
from orderflow.service.facade import OrderService
from orderflow.service.history import HistoryEntry
from orderflow.service.orders import OrderDraft
from orderflow.service.queries import NO_SUCH_CODE, NO_SUCH_SLIP
from orderflow.service.records import PurchasingAlert
from orderflow.service.results import ScanResult, Submission, Transfer
from orderflow.service.views import CustomerStatus, Shortage, SlipStatus, StageVisit

__all__ = [
    "DEFAULT_EFFECTS",
    "NO_SUCH_CODE",
    "NO_SUCH_SLIP",
    "AuditReader",
    "CustomerStatus",
    "Effect",
    "EffectContext",
    "HistoryEntry",
    "OrderDraft",
    "OrderService",
    "PurchasingAlert",
    "ScanResult",
    "Shortage",
    "SlipStatus",
    "StageVisit",
    "StoredCheckpoint",
    "Submission",
    "Transfer",
]
