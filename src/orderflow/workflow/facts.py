"""What guards read: a snapshot of the facts about one order, gathered before firing."""

from __future__ import annotations

import bisect
import datetime as dt
import functools
import operator
from collections.abc import Mapping
from decimal import Decimal
from types import MappingProxyType
from typing import Any

import attrs

from orderflow.domain._checks import non_negative, to_decimal
from orderflow.domain.master import Component, Customer, Product
from orderflow.domain.stock import InboundPO
from orderflow.exceptions import InputError

__all__ = ["CapacitySchedule", "CapacitySlot", "Facts"]

_EMPTY: Mapping[str, Any] = MappingProxyType({})
_START_LINE = operator.attrgetter("start", "line")


def _frozen_map(value: Mapping[str, Any]) -> Mapping[str, Any]:
    return value if isinstance(value, MappingProxyType) else MappingProxyType(dict(value))


@attrs.frozen
class CapacitySlot:
    """Free capacity on a production line between two dates (inclusive)."""

    line: str
    start: dt.date
    end: dt.date
    free_units: Decimal = attrs.field(converter=to_decimal, validator=non_negative)


@attrs.frozen
class CapacitySchedule:
    """The free slots of a factory's production lines (from the capacity port)."""

    slots: tuple[CapacitySlot, ...] = ()

    def first_fit(self, units: Decimal, today: dt.date, deadline: dt.date) -> CapacitySlot | None:
        """The earliest slot ending between ``today`` and ``deadline`` with room for ``units``."""
        slots = self.slots
        if len(slots) <= 8:  # a plain scan beats building and using the index
            best: CapacitySlot | None = None
            for slot in slots:
                if (
                    today <= slot.end <= deadline
                    and slot.free_units >= units
                    and (best is None or (slot.start, slot.line) < (best.start, best.line))
                ):
                    best = slot
            return best
        by_start, starts, longest = self._index
        # a slot that ends on or after today starts no earlier than today - longest
        for i in range(bisect.bisect_left(starts, today - longest), len(by_start)):
            slot = by_start[i]
            if slot.start > deadline:
                break
            if today <= slot.end <= deadline and slot.free_units >= units:
                return slot
        return None

    def with_free_units(self, i: int, slot: CapacitySlot) -> CapacitySchedule:
        """This schedule with slot ``i`` replaced by ``slot``, which spans the same line
        and dates (only its free units differ: a dispatch took some). The first-fit index
        is carried over when it was built: the slots' order does not change."""
        old = self.slots[i]
        if (slot.line, slot.start, slot.end) != (old.line, old.start, old.end):
            raise InputError(
                f"slot {i} is {old.line} {old.start}..{old.end}, not {slot.line} "
                f"{slot.start}..{slot.end}: with_free_units replaces a slot by one of the "
                "same line and dates (build a new CapacitySchedule to move slots)"
            )
        new = CapacitySchedule((*self.slots[:i], slot, *self.slots[i + 1 :]))
        try:  # the cached index if built (object's lookup: never builds it)
            by_start, starts, longest = object.__getattribute__(self, "_index")
            j = next(k for k, s in enumerate(by_start) if s is old)
            object.__setattr__(
                new, "_index", ((*by_start[:j], slot, *by_start[j + 1 :]), starts, longest)
            )
        except (AttributeError, TypeError, StopIteration):
            pass  # built on first use instead
        return new

    @functools.cached_property
    def _index(self) -> tuple[tuple[CapacitySlot, ...], list[dt.date], dt.timedelta]:
        # slots by (start, line), so the first fit found is the earliest; guards and
        # effects ask the same schedule several times per order
        by_start = tuple(sorted(self.slots, key=_START_LINE))
        longest = max((s.end - s.start for s in by_start), default=dt.timedelta(0))
        return by_start, [s.start for s in by_start], max(longest, dt.timedelta(0))


@attrs.frozen
class Facts:
    """Everything the guards of one transition may look at.

    ``today`` is the factory-local date; ``available`` maps component code to available
    stock (on hand minus reservations); ``inbound`` maps component code to its pending
    purchase orders; ``on_time_streak`` maps product code to consecutive on-time
    deliveries (drives the new-product safety factor).
    """

    today: dt.date
    customer: Customer | None = None
    products: Mapping[str, Product] = attrs.field(default=_EMPTY, converter=_frozen_map)
    components: Mapping[str, Component] = attrs.field(default=_EMPTY, converter=_frozen_map)
    available: Mapping[str, Decimal] = attrs.field(default=_EMPTY, converter=_frozen_map)
    inbound: Mapping[str, tuple[InboundPO, ...]] = attrs.field(
        default=_EMPTY, converter=_frozen_map
    )
    capacity: CapacitySchedule | None = None
    on_time_streak: Mapping[str, int] = attrs.field(default=_EMPTY, converter=_frozen_map)

    def label(self, component: str) -> str:
        """``name code`` of a component for messages (the code alone if unknown)."""
        master = self.components.get(component)
        return master.label if master is not None else component
