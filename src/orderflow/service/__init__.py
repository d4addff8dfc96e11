"""The service layer: one transaction per operation over a store (R2, R5, R6, R9, R11)."""

from __future__ import annotations

from orderflow.service.core import (
    DEFAULT_EFFECTS,
    OrderDraft,
    OrderService,
    ScanResult,
    Submission,
)
from orderflow.service.queries import STAGE_LABELS, AuditReader, customer_status, slip_status
from orderflow.service.records import PurchasingAlert
from orderflow.service.views import CustomerStatus, Shortage, SlipStatus, StageVisit

__all__ = [
    "DEFAULT_EFFECTS",
    "STAGE_LABELS",
    "AuditReader",
    "CustomerStatus",
    "OrderDraft",
    "OrderService",
    "PurchasingAlert",
    "ScanResult",
    "Shortage",
    "SlipStatus",
    "StageVisit",
    "Submission",
    "customer_status",
    "slip_status",
]
