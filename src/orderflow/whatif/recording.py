"""What a recorded store tells a replay: its master data, the stock it started from, and
its audit log, reduced to what the replay reads from it.

The log is decoded once, by :func:`survey`: each entry a replay acts on is kept as a
small :class:`Recorded` (no hashes, nonces or payloads it does not read), so every
replay of the same survey runs without reading or decoding the store again.

The log does not record the opening stock (a stock-take writes no entry), so it is
worked back from the end: today's on-hand, minus every scan the log recorded, plus every
issue to production (each dispatched order's base need, from its lines and the BOMs).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import NamedTuple

import attrs

from orderflow.audit import AuditEntry, EntryType, FieldChange
from orderflow.domain import Component, Customer, Product
from orderflow.exceptions import InputError
from orderflow.logstream import decoded
from orderflow.serialization import from_json
from orderflow.service import OrderService
from orderflow.service.codec import V1_COLUMNS

__all__ = [
    "CHUNK",
    "NewOrder",
    "Recorded",
    "Survey",
    "created_lines",
    "log_entries",
    "released",
    "survey",
]

CHUNK = 20_000
"""Entries read per query while streaming the log."""

_STOCK = "stock/"
_REPLAYED = (EntryType.CREATED, EntryType.STATE_CHANGE, EntryType.FIELD_UPDATE)
# the context a replay reads ("occurred" is kept as Recorded.occurred); the rest (policy
# version, deadlines, R2 check results...) is what the replay decides again, or nothing
_KEPT_CONTEXT = frozenset(
    ("action", "batch", "category", "device", "event", "incident", "note", "reason",
     "root_cause")
)  # fmt: skip
_NO_CONTEXT: Mapping[str, str] = {}


def log_entries(svc: OrderService, *, chunk: int = CHUNK) -> Iterator[tuple[int, AuditEntry]]:
    """The recorded log, decoded, oldest first, ``chunk`` entries per read."""
    return decoded(svc.store, chunk=chunk)


def created_lines(
    entry: AuditEntry,
) -> tuple[dict[str, object], list[tuple[str, Decimal, Decimal]]]:
    """The order fields and ``(product, qty, unit price)`` lines of a ``created`` entry
    (either payload version)."""
    data = json.loads(str(entry.changes_map["order"][1]))
    if entry.version == 1:
        row = dict(zip(V1_COLUMNS, data, strict=True))
        lines = [(p, Decimal(q), Decimal(u)) for p, q, u in json.loads(row["lines"])]
    else:
        row = data
        lines = [(x["product"], Decimal(x["qty"]), Decimal(x["unit_price"])) for x in row["lines"]]
    return row, lines


class NewOrder(NamedTuple):
    """What a ``created`` entry tells a replay to submit (as :func:`created_lines` reads
    it). ``lines`` are ``(product, qty, unit price)`` with the decimals as their exact
    text (``Decimal(text)`` gives them back): a decimal object costs twice the memory."""

    customer_id: str
    requested_date: str
    factory_id: str
    delivery_address: str
    number: str
    lines: tuple[tuple[str, str, str], ...]


class Recorded(NamedTuple):
    """One recorded entry a replay acts on, as little of it as the replay reads.

    ``ctx`` holds only the context keys a replay reads (equal contexts share one
    read-only dict: do not change it); ``occurred`` is the ``occurred`` context as
    microseconds, or ``at`` without one; ``changes`` is kept for ``field_update`` entries
    (edits, stock scans) only; ``order`` for ``created`` entries only.
    """

    at: int
    type: EntryType
    order_id: str
    actor: str
    ctx: Mapping[str, str]
    occurred: int
    changes: tuple[FieldChange, ...]
    order: NewOrder | None


class _Reducer:
    """Turns decoded entries into :class:`Recorded`, sharing the strings and contexts
    that repeat (order ids, actors, ``{"event": "deliver"}``): a 147,000-order year has
    some 770,000 entries, and the survey holds every one the replay acts on."""

    def __init__(self) -> None:
        self.strings: dict[str, str] = {}
        self.contexts: dict[tuple[tuple[str, str], ...], Mapping[str, str]] = {}

    def new_order(self, entry: AuditEntry) -> NewOrder:
        """The order a ``created`` entry submitted."""
        row, lines = created_lines(entry)
        shared = self.strings.setdefault
        customer, date, factory = (
            str(row[k]) for k in ("customer_id", "requested_date", "factory_id")
        )
        return NewOrder(
            shared(customer, customer), shared(date, date), shared(factory, factory),
            str(row.get("delivery_address") or ""), str(row["number"]),
            tuple((shared(p, p), str(q), str(u)) for p, q, u in lines),
        )  # fmt: skip

    def reduce(self, entry: AuditEntry) -> Recorded | None:
        """``entry`` as the replay reads it, or ``None`` for one it does not act on
        (policy changes, timeout warnings: the replay decides those again)."""
        kind, chain = entry.type, entry.order_id
        stock = chain.startswith(_STOCK)
        occurred = action = None
        kept = []
        for pair in entry.context:  # sorted by key, no repeats: as context_map reads it
            if pair[0] in _KEPT_CONTEXT:
                kept.append(pair)
                if pair[0] == "action":
                    action = pair[1]
            elif pair[0] == "occurred":
                occurred = pair[1]
        if kind is EntryType.EXCEPTION:
            if action not in ("opened", "resolved") and not stock:
                return None
        elif kind not in _REPLAYED and not stock:
            return None
        order = self.new_order(entry) if kind is EntryType.CREATED else None
        key = tuple(kept)
        context = self.contexts.get(key) if key else _NO_CONTEXT
        if context is None:
            context = self.contexts[key] = dict(key)
        strings = self.strings
        return Recorded(
            entry.at, kind, strings.setdefault(chain, chain),
            strings.setdefault(entry.actor, entry.actor), context,
            int(occurred) if occurred else entry.at,
            entry.changes if stock or kind is EntryType.FIELD_UPDATE else (), order,
        )  # fmt: skip


@attrs.frozen
class Survey:
    """A recorded store at a glance: its master data, the factories its orders went to,
    the first and last entry's time (UTC microseconds), the opening on-hand per
    component, and the entries a replay acts on, oldest first (``log``, in chunks of
    :data:`CHUNK`: a replay that is the survey's last may release each chunk once it has
    read it, see :func:`~orderflow.whatif.replay`)."""

    customers: tuple[Customer, ...]
    products: tuple[Product, ...]
    components: tuple[Component, ...]
    factories: tuple[str, ...]
    first_us: int
    last_us: int
    opening_stock: dict[str, Decimal]
    log: list[tuple[Recorded, ...]] = attrs.field(repr=False, eq=False)

    @property
    def spent(self) -> bool:
        """Whether a replay released the log (survey the store again to replay it)."""
        return any(chunk is _RELEASED for chunk in self.log)


def survey(svc: OrderService) -> Survey:
    """Read ``svc``'s master data, work out its opening stock and keep the entries a
    replay acts on (one pass over the log, the only one a replay of it needs).

    Raises :class:`~orderflow.InputError` for a store with no orders to replay.
    """
    with svc.store.transaction() as tx:
        customers = tuple(from_json(b, Customer) for _, b in tx.docs("customer"))
        products = tuple(from_json(b, Product) for _, b in tx.docs("product"))
        components = tuple(from_json(b, Component) for _, b in tx.docs("component"))
    boms = {p.code: p.bom for p in products}
    scanned: dict[str, Decimal] = {}
    issued: dict[str, Decimal] = {}
    lines: dict[str, list[tuple[str, Decimal]]] = {}  # orders not yet dispatched
    factories: set[str] = set()
    first = last = None
    reducer = _Reducer()
    log: list[Recorded] = []
    for _, entry in log_entries(svc):
        first = entry.at if first is None else first
        last = entry.at
        recorded = reducer.reduce(entry)
        if recorded is not None:
            log.append(recorded)
        if entry.order_id.startswith(_STOCK):
            old, new = entry.changes_map.get("on_hand", ("0", "0"))
            code = entry.order_id[len(_STOCK) :]
            scanned[code] = scanned.get(code, Decimal(0)) + Decimal(str(new)) - Decimal(str(old))
        elif recorded is not None and recorded.order is not None:  # a created entry
            factories.add(recorded.order.factory_id)
            lines[entry.order_id] = [(p, Decimal(q)) for p, q, _ in recorded.order.lines]
        elif entry.type is EntryType.FIELD_UPDATE and "lines" in entry.changes_map:
            new_lines = json.loads(str(entry.changes_map["lines"][1]))
            lines[entry.order_id] = [
                (x[0], Decimal(x[1])) if isinstance(x, list) else (x["product"], Decimal(x["qty"]))
                for x in new_lines
            ]
        elif (
            recorded is not None  # every state change is
            and recorded.type is EntryType.STATE_CHANGE
            and recorded.ctx.get("event") == "dispatch_production"
        ):
            for product, qty in lines.pop(entry.order_id, []):
                for b in boms.get(product, ()):
                    issued[b.component] = issued.get(b.component, Decimal(0)) + qty * b.qty_per_unit
    if first is None or last is None or not factories:
        raise InputError("the database has no orders to replay; run 'orderflow simulate' first")
    opening = {}
    for c in components:
        now = svc.stock(c.code).on_hand
        opening[c.code] = now - scanned.get(c.code, Decimal(0)) + issued.get(c.code, Decimal(0))
    return Survey(
        customers, products, components, tuple(sorted(factories)), first, last, opening,
        [tuple(log[i : i + CHUNK]) for i in range(0, len(log), CHUNK)],
    )  # fmt: skip


_RELEASED: tuple[Recorded, ...] = ()
"""What a released chunk of :attr:`Survey.log` is replaced with."""


def released(survey: Survey) -> Iterator[Recorded]:
    """:attr:`Survey.log`'s entries, each chunk dropped from the survey once read (the
    replay of the year then never holds the whole log beside the store it fills)."""
    log = survey.log
    for i, chunk in enumerate(log):
        log[i] = _RELEASED
        yield from chunk
