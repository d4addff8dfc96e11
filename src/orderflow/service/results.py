"""What the service's operations return, and how a result is kept for a retried call.

An operation run under an idempotency key stores its result through the one cattrs
converter (:mod:`orderflow.serialization`): a retry with the same key returns a value
equal to the first call's, measured guard values included. Only the customer's query
token is never stored; a retried :class:`Submission` has ``query_token=None`` and still
compares equal (the token is left out of equality).

An order in a result is kept as a reference, ``[order id, version]``, not as a copy:
the order at that version is the stored order itself when nothing changed it since, and
otherwise the replay of its audit chain up to that version (the log is the order's
history, so the copy would only repeat it). Every keyed operation of a plant's year
returns an order, and encoding a copy of each cost about a quarter of the service's
time. Results stored by 0.1 and 0.2 (plain JSON copies) still read back.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from decimal import Decimal
from types import MappingProxyType
from typing import Any, TypeVar

import attrs
from cattrs.gen import make_dict_unstructure_fn, override

from orderflow.domain import Order, StockPosition
from orderflow.exceptions import StoreError
from orderflow.risk.flags import RiskFlag
from orderflow.serialization import converter, from_json
from orderflow.service.records import PurchasingAlert
from orderflow.workflow import GuardResult

__all__ = ["ScanResult", "Submission", "Transfer", "decode_result", "encode_result"]

T = TypeVar("T")


@attrs.frozen
class Submission:
    """A submitted order with the R2 three-fold check results and its risk flags (R13).

    ``flags`` are delivery-risk notices for the staff (never shown to the customer);
    they never block or change the order's flow. ``query_token`` (the customer's secret
    link code) is only returned by the call that created the order; a retried call with
    the same idempotency key gets ``None``, and the two results still compare equal.
    """

    order: Order
    checks: tuple[GuardResult, ...]
    query_token: str | None = attrs.field(default=None, eq=False, repr=False)
    flags: tuple[RiskFlag, ...] = ()

    @property
    def passed(self) -> bool:
        """True when credit, kitting and capacity checks all passed."""
        return all(c.ok for c in self.checks)


@attrs.frozen
class ScanResult:
    """The stock after a warehouse scan and the purchasing alert it raised, if any (R6)."""

    position: StockPosition
    alert: PurchasingAlert | None


@attrs.frozen
class Transfer:
    """Stock after a transfer: the source and target warehouses' positions, and the
    purchasing alert the source raised, if it fell under its safety threshold."""

    source: StockPosition
    target: StockPosition
    alert: PurchasingAlert | None


# Measured guard values are open-ended (decimals, counts, dates, nested maps); each keeps
# its type through a one-key tag so that a stored result reads back equal.
def _tag(value: Any) -> Any:
    if isinstance(value, bool) or value is None or isinstance(value, int | str):
        return value
    if isinstance(value, Decimal):
        return {"decimal": str(value)}
    if isinstance(value, dt.datetime):
        return {"datetime": value.isoformat()}
    if isinstance(value, dt.date):
        return {"date": value.isoformat()}
    if isinstance(value, list | tuple):
        return {"list": [_tag(v) for v in value]}
    if isinstance(value, dict | MappingProxyType):
        return {"map": {str(k): _tag(v) for k, v in value.items()}}
    raise StoreError(f"cannot keep a measured value of type {type(value).__name__}")


def _untag(value: Any) -> Any:
    if not isinstance(value, dict):
        return value
    ((kind, body),) = value.items()
    if kind == "decimal":
        return Decimal(body)
    if kind == "datetime":
        return dt.datetime.fromisoformat(body)
    if kind == "date":
        return dt.date.fromisoformat(body)
    if kind == "list":
        return [_untag(v) for v in body]
    return {k: _untag(v) for k, v in body.items()}


def _unstructure_guard(result: GuardResult) -> dict[str, Any]:
    return {
        "ok": result.ok,
        "code": result.code,
        "message": result.message,
        "measured": {k: _tag(v) for k, v in result.measured.items()},
    }


def _structure_guard(data: Any, _: type) -> GuardResult:
    measured = {k: _untag(v) for k, v in data["measured"].items()}
    return GuardResult(data["ok"], data["code"], data["message"], measured)


converter.register_unstructure_hook(GuardResult, _unstructure_guard)
converter.register_structure_hook(GuardResult, _structure_guard)
# the query token is a secret: no payload the converter writes ever carries it
converter.register_unstructure_hook(
    Submission,
    make_dict_unstructure_fn(Submission, converter, query_token=override(omit=True)),
)


# attrs field order is fixed, so the stored form is stable without sorting keys (which
# cost a third of the encoding on every keyed operation)
_ENCODE = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


_QUOTE = json.encoder.encode_basestring
_REF = "@"
"""Starts a stored result that refers to an order (JSON never starts with it)."""


def encode_result(value: Any) -> str:
    """The stored form of an operation's result (orders kept as references)."""
    if type(value) is Order:  # most keyed operations: the text the encoder would give
        return f'{_REF}{{"order":[{_QUOTE(value.id)},{int(value.version)}]}}'
    if type(value) is Submission:
        checks = [_unstructure_guard(c) for c in value.checks]
        kept = {"order": [value.order.id, value.order.version], "checks": checks}
        if value.flags:
            kept["flags"] = converter.unstructure(value.flags)
        return _REF + _ENCODE(kept)
    return _ENCODE(converter.unstructure(value))


def decode_result(text: str, cls: type[T], order_at: Callable[[str, int], Order]) -> T:
    """A stored result read back as ``cls``; ``order_at(id, version)`` resolves a
    referenced order (the order as it was at that version)."""
    if not text.startswith(_REF):
        return from_json(text, cls)
    data = json.loads(text[len(_REF) :])
    order_id, version = data["order"]
    order = order_at(str(order_id), int(version))
    if cls is Submission:
        checks = tuple(_structure_guard(c, GuardResult) for c in data["checks"])
        flags = converter.structure(data.get("flags", []), tuple[RiskFlag, ...])
        return Submission(order, checks, flags=flags)  # type: ignore[return-value]
    if cls is not Order:
        raise StoreError(f"a stored order reference cannot be read as {cls.__name__}")
    return order  # type: ignore[return-value]
