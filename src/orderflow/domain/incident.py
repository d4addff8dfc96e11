"""Exceptions on the shop floor as a closed loop: opened, resolved, traced (R5, R8).

An :class:`Incident` is what the plant calls an *exception* (a stock shortage, a drawing
change, a logistics problem ...); the name avoids a clash with Python's exceptions. It
is opened in one of the policy's categories with the operator, device and batch it
concerns, and closed with a root cause. Both steps are pure functions returning new
frozen values; persistence and the audit entry are the service layer's business.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import attrs

from orderflow.domain._checks import not_blank
from orderflow.exceptions import InputError

if TYPE_CHECKING:  # the policy model imports the domain; only types are needed here
    from orderflow.policy.model import Policy

__all__ = ["Incident", "open_incident", "resolve_incident"]


def _aware(instance: Any, attribute: attrs.Attribute[Any], value: dt.datetime | None) -> None:
    if value is None:
        return
    if not isinstance(value, dt.datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise InputError(
            f"{type(instance).__name__}.{attribute.name} must be a timezone-aware datetime, "
            f"got {value!r}"
        )


@attrs.frozen
class Incident:
    """One exception raised against an order, open or resolved (R5, R8).

    ``category`` is the code of one of the policy's
    :attr:`~orderflow.policy.Policy.exception_categories`. ``operator``, ``device`` and
    ``batch`` make the root cause traceable (R5). An open incident has ``resolved_at``,
    ``root_cause`` and ``resolved_by`` all ``None``; a resolved one has all three set and
    ``resolved_at >= opened_at``. Build them with :func:`open_incident` and
    :func:`resolve_incident`, which check the category and the order of events.
    """

    id: str = attrs.field(validator=not_blank)
    order_id: str = attrs.field(validator=not_blank)
    category: str = attrs.field(validator=not_blank)
    opened_at: dt.datetime = attrs.field(validator=_aware)
    operator: str = attrs.field(validator=not_blank)
    device: str = ""
    batch: str = ""
    note: str = ""
    resolved_at: dt.datetime | None = attrs.field(default=None, validator=_aware)
    root_cause: str | None = None
    resolved_by: str | None = None

    def __attrs_post_init__(self) -> None:
        parts = (self.resolved_at, self.root_cause, self.resolved_by)
        if any(p is not None for p in parts) and any(p is None for p in parts):
            raise InputError(
                f"incident {self.id}: resolved_at, root_cause and resolved_by must be set "
                "together (all None while the incident is open)"
            )
        if self.resolved_at is not None and self.resolved_at < self.opened_at:
            raise InputError(
                f"incident {self.id}: resolved at {self.resolved_at.isoformat()}, before it "
                f"was opened at {self.opened_at.isoformat()}"
            )

    @property
    def is_open(self) -> bool:
        """True while the incident has no resolution."""
        return self.resolved_at is None

    @property
    def closure_time(self) -> dt.timedelta | None:
        """Time from opening to resolution (never negative), or ``None`` while open."""
        if self.resolved_at is None:
            return None
        return dt.datetime.__sub__(self.resolved_at, self.opened_at)

    @property
    def closure_hours(self) -> Decimal | None:
        """:attr:`closure_time` in hours (exact to the microsecond), or ``None`` while open."""
        delta = self.closure_time
        if delta is None:
            return None
        micros = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
        return Decimal(micros) / Decimal(3_600_000_000)


def open_incident(
    policy: Policy,
    *,
    order_id: str,
    category: str,
    opened_at: dt.datetime,
    operator: str,
    device: str = "",
    batch: str = "",
    note: str = "",
    incident_id: str | None = None,
) -> Incident:
    """Open an incident of ``category`` against ``order_id`` at ``opened_at``.

    ``category`` must be the code of one of ``policy.exception_categories``, else
    :class:`~orderflow.PolicyError` naming the known codes. ``opened_at`` must be
    timezone-aware and ``operator`` not blank, else :class:`~orderflow.InputError`.
    ``incident_id`` defaults to a fresh random hex id.
    """
    policy.category(category)  # raises PolicyError listing the known codes
    return Incident(
        id=incident_id if incident_id is not None else uuid.uuid4().hex,
        order_id=order_id,
        category=category,
        opened_at=opened_at,
        operator=operator,
        device=device,
        batch=batch,
        note=note,
    )


def resolve_incident(incident: Incident, root_cause: str, by: str, at: dt.datetime) -> Incident:
    """Close ``incident`` with its ``root_cause``, resolved ``by`` someone ``at`` a time.

    Raises :class:`~orderflow.InputError` if the incident is already resolved, if ``at``
    is naive or earlier than :attr:`Incident.opened_at`, or if ``root_cause`` or ``by``
    is blank.
    """
    if incident.resolved_at is not None:
        raise InputError(
            f"incident {incident.id} was already resolved at "
            f"{incident.resolved_at.isoformat()} by {incident.resolved_by}"
        )
    if not root_cause or not root_cause.strip():
        raise InputError(f"incident {incident.id}: a root cause is required to resolve it")
    if not by or not by.strip():
        raise InputError(f"incident {incident.id}: name who resolved it")
    if not isinstance(at, dt.datetime) or at.tzinfo is None or at.utcoffset() is None:
        raise InputError(f"incident {incident.id}: resolution time must be timezone-aware")
    if at < incident.opened_at:
        raise InputError(
            f"incident {incident.id}: cannot resolve at {at.isoformat()}, before it was "
            f"opened at {incident.opened_at.isoformat()}"
        )
    return attrs.evolve(incident, resolved_at=at, root_cause=root_cause.strip(), resolved_by=by)
