"""Every error orderflow raises, as one tree rooted at :class:`OrderflowError`.

Catch :class:`OrderflowError` to handle anything the library refuses; catch a
subclass to handle one kind of refusal. Messages are written for a plant
engineer, not for a Python debugger: they name the order, the component, the
key or the row at fault and the measured values.

.. code-block:: text

    OrderflowError
    ├── InputError                 bad value given to a public function
    │   └── UnknownAddress         geocoder has no entry for an address
    ├── DefinitionError            a workflow definition is not valid
    ├── PolicyError                a policy document or value is not valid
    ├── WorkflowError
    │   ├── InvalidTransition      event not allowed from the order's stage
    │   └── TransitionRefused      guards failed; carries every failed reason
    ├── StoreError                 persistence failed (wraps the driver error)
    │   ├── NotFound               no such order / entry
    │   ├── ConcurrencyConflict    another writer changed the order first
    │   ├── IdempotencyConflict    a key was reused for a different request
    │   └── UnreadableRow          a stored row was changed outside orderflow
    ├── AuditError
    │   ├── TamperDetected         stored audit data does not verify
    │   └── ProofError             an inclusion/consistency proof is invalid
    ├── GeoError                   invalid geometry or routing impossible
    ├── AccessDenied               actor may not see/change this factory's data
    ├── SlipLocked                 too many wrong slip codes; try again later
    ├── MappingError               an ERP row cannot be mapped
    └── MissingExtra               an optional extra is not installed
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from orderflow.workflow.guards import GuardResult

__all__ = [
    "AccessDenied",
    "AuditError",
    "ConcurrencyConflict",
    "DefinitionError",
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
    "SlipLocked",
    "StoreError",
    "TamperDetected",
    "TransitionRefused",
    "UnknownAddress",
    "UnreadableRow",
    "WorkflowError",
]


class OrderflowError(Exception):
    """Base class of every error raised by orderflow."""


class InputError(OrderflowError, ValueError):
    """A value passed to a public function is not acceptable."""


class UnknownAddress(InputError):
    """The geocoder has no coordinates for an address (never a silent default)."""

    def __init__(self, address: str) -> None:
        self.address = address
        super().__init__(f"unknown delivery address {address!r}: add it to the geocoder table")


class DefinitionError(OrderflowError, ValueError):
    """A workflow definition is malformed; ``problems`` lists every issue found."""

    def __init__(self, problems: Iterable[str]) -> None:
        self.problems = tuple(problems)
        text = "; ".join(self.problems)
        super().__init__(f"invalid workflow definition: {text}")


class PolicyError(OrderflowError, ValueError):
    """A policy document or parameter is invalid; ``problems`` name each key."""

    def __init__(self, problems: Iterable[str]) -> None:
        self.problems = tuple(problems)
        super().__init__("invalid policy: " + "; ".join(self.problems))


class WorkflowError(OrderflowError):
    """Base class for refusals of the workflow engine."""


class InvalidTransition(WorkflowError):
    """The event does not exist or is not allowed from the order's current stage."""

    def __init__(
        self,
        order_id: str,
        stage: str,
        event: str,
        allowed: Iterable[str],
        number: str | None = None,
    ) -> None:
        self.order_id = order_id
        self.number = number
        self.stage = stage
        self.event = event
        self.allowed = tuple(allowed)
        allowed_text = ", ".join(self.allowed) or "none"
        super().__init__(
            f"order {number or order_id}: event {event!r} is not allowed from stage {stage!r} "
            f"(allowed here: {allowed_text})"
        )


class TransitionRefused(WorkflowError):
    """One or more guards failed. ``reasons`` holds every failed guard result.

    The order is unchanged. ``str(error)`` lists every reason on its own line.
    """

    def __init__(
        self,
        order_id: str,
        event: str,
        reasons: Iterable[GuardResult],
        number: str | None = None,
    ) -> None:
        self.order_id = order_id
        self.number = number
        self.event = event
        self.reasons: tuple[GuardResult, ...] = tuple(reasons)
        lines = [f"order {number or order_id}: {event!r} refused by {len(self.reasons)} guard(s):"]
        lines.extend(f"  - [{r.code}] {r.message}" for r in self.reasons)
        super().__init__("\n".join(lines))

    @property
    def codes(self) -> tuple[str, ...]:
        """The stable codes of the failed guards, in evaluation order."""
        return tuple(r.code for r in self.reasons)


class StoreError(OrderflowError):
    """Persistence failed. The underlying driver error is chained as ``__cause__``."""


class NotFound(StoreError, KeyError):
    """No order (or other record) with the given key exists."""

    def __init__(self, what: str, key: str, message: str | None = None) -> None:
        self.what = what
        self.key = key
        super().__init__(message or f"no {what} with id {key!r}")

    def __str__(self) -> str:  # KeyError would otherwise quote the message
        return str(self.args[0])


class ConcurrencyConflict(StoreError):
    """Another writer changed the order since it was read; reload and retry."""

    def __init__(self, order_id: str, expected_version: int, detail: str = "") -> None:
        self.order_id = order_id
        self.expected_version = expected_version
        extra = f" ({detail})" if detail else ""
        super().__init__(
            f"order {order_id} was changed by another writer since version "
            f"{expected_version}; reload it and retry{extra}"
        )


class IdempotencyConflict(StoreError):
    """An idempotency key was reused for a different request."""

    def __init__(self, key: str) -> None:
        self.key = key
        super().__init__(
            f"idempotency key {key!r} was already used for a different request; "
            "use a fresh key for a new request"
        )


class UnreadableRow(StoreError):
    """A stored row cannot be read back: it was written or changed outside orderflow.

    Readers that aggregate (the report, the dashboard) name the row and go on without
    it; readers that must see everything (``audit verify --deep``) report it.
    """

    def __init__(self, table: str, key: str, problem: str) -> None:
        self.table = table
        self.key = key
        super().__init__(
            f"{table} row {key!r} cannot be read ({problem}): it was changed outside "
            "orderflow; run 'orderflow audit verify --deep' and restore it from its "
            "audit history"
        )


class AuditError(OrderflowError):
    """Base class for audit-log verification failures."""


class TamperDetected(AuditError):
    """Stored audit data does not verify.

    ``first_bad_index`` is the global log index of the first entry that fails,
    ``kind`` one of ``edited``, ``missing``, ``reordered``, ``duplicated``,
    ``truncated``, ``root_mismatch``, ``diverged``.
    """

    def __init__(self, first_bad_index: int, kind: str, detail: str) -> None:
        self.first_bad_index = first_bad_index
        self.kind = kind
        self.detail = detail
        super().__init__(f"audit log entry {first_bad_index}: {kind}: {detail}")


class ProofError(AuditError):
    """An inclusion or consistency proof, or a checkpoint signature, is invalid."""


class GeoError(OrderflowError, ValueError):
    """Invalid geometry, coordinates out of range, or no factory can serve a point."""


class AccessDenied(OrderflowError, PermissionError):
    """The actor has no access to the factory that owns the data (R10)."""

    MESSAGE_ZH = "您无权访问该区域订单，请联系区域管理员"
    MESSAGE_EN = "You have no access to orders of this region; contact the regional administrator"

    def __init__(self, actor: str, factory_id: str, action: str = "read") -> None:
        self.actor = actor
        self.factory_id = factory_id
        self.action = action
        super().__init__(
            f"{self.MESSAGE_ZH} / {self.MESSAGE_EN} "
            f"(actor {actor!r}, factory {factory_id!r}, action {action})"
        )


class SlipLocked(OrderflowError, PermissionError):
    """Too many wrong 6-digit codes for an order number, or from one caller (R11).

    A slip code has only 10^6 values; after a few wrong tries the number (or the caller)
    is locked until ``until`` (an aware UTC datetime). An unknown number locks the same
    way, so a lockout does not reveal whether an order exists.
    """

    def __init__(self, until: dt.datetime, scope: str = "number") -> None:
        self.until = until
        self.scope = scope
        what_zh, what_en = (
            ("该单号", "this order number") if scope == "number" else ("本终端", "this device")
        )
        when = f"{until:%Y-%m-%d %H:%M} UTC"
        super().__init__(
            f"{what_zh}验证码错误次数过多，请于 {when} 后再试 / Too many wrong codes for "
            f"{what_en}; try again after {when}"
        )


class MappingError(OrderflowError, ValueError):
    """An ERP row cannot be mapped; names the table, key, column and reason."""

    def __init__(self, table: str, key: object, column: str, reason: str) -> None:
        self.table = table
        self.key = key
        self.column = column
        self.reason = reason
        super().__init__(f"{table} row {key!r}, column {column}: {reason}")

    def as_dict(self) -> Mapping[str, Any]:
        """The error as plain data, as stored in the quarantine."""
        return {"table": self.table, "key": self.key, "column": self.column, "reason": self.reason}


class MissingExtra(OrderflowError, ImportError):
    """An optional integration was used without its extra installed."""

    def __init__(self, extra: str, module: str) -> None:
        self.extra = extra
        self.module = module
        super().__init__(
            f"this feature needs the optional package {module!r}; "
            f'install it with: pip install "orderflow[{extra}]"'
        )
