"""What customers and slip scanners see (R9, R11): no internal fields, ever."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import attrs

__all__ = ["CustomerStatus", "Shortage", "SlipStatus", "StageVisit"]


@attrs.frozen
class StageVisit:
    """When an order entered a stage."""

    stage: str
    at: dt.datetime


@attrs.frozen
class CustomerStatus:
    """The customer's view of an order, reached with the secret query code (R9).

    Carries the order number, current stage, when it was entered, the stage history
    and the expected departure date; never prices, customers, ids or internal notes.
    """

    number: str
    stage: str
    stage_label: str
    since: dt.datetime
    expected_departure: dt.date | None
    history: tuple[StageVisit, ...]


@attrs.frozen
class Shortage:
    """A component short for an order: what is available against what it needs."""

    component: str
    label: str
    available: Decimal
    required: Decimal
    alternative_supplier: str | None


@attrs.frozen
class SlipStatus:
    """The three key facts behind a scanned paper slip (R11)."""

    number: str
    stage: str
    stage_label: str
    shortages: tuple[Shortage, ...]
    latest_failed_qc_batch: str | None
    recommended_supplier: str | None
