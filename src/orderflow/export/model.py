"""The object-centric shape every exporter writes: events, objects, their types.

One :class:`OcelEvent` per audit entry, one :class:`OcelObject` per order, order line,
customer, product, component and factory (and one ``policy`` object the policy changes
relate to). Writers (OCEL 2.0 JSON and SQLite) turn these
into their format; :class:`TypeCatalog` collects the attribute types each event and
object type was seen with, which both formats declare.
"""

from __future__ import annotations

import datetime as dt
from typing import TypeAlias

import attrs

__all__ = [
    "AttrValue",
    "ExportSummary",
    "OcelAttribute",
    "OcelEvent",
    "OcelObject",
    "Relationship",
    "TypeCatalog",
    "attribute_type",
    "iso",
]

AttrValue: TypeAlias = str | int | bool | dt.datetime
"""An attribute value as exported: text, integer, boolean or an aware UTC instant.
Decimals travel as their exact text (never float)."""


@attrs.frozen(slots=True)
class Relationship:
    """A qualified relation to an object: its id and the role it plays (the qualifier)."""

    object_id: str
    qualifier: str


@attrs.frozen(slots=True)
class OcelAttribute:
    """An attribute value; on an object, ``time`` is when it took the value (``None``:
    from the start, written as the Unix epoch as OCEL 2.0 asks)."""

    name: str
    value: AttrValue
    time: dt.datetime | None = None


@attrs.frozen(slots=True)
class OcelEvent:
    """One audit entry as an event: ``id`` is ``e<log index>``, ``type`` the activity,
    ``time`` when it happened on the floor (when it was recorded is an attribute)."""

    id: str
    type: str
    time: dt.datetime
    attributes: tuple[OcelAttribute, ...]
    relationships: tuple[Relationship, ...]


@attrs.frozen(slots=True)
class OcelObject:
    """One object (``type``: order, order_line, customer, product, component, factory,
    policy);
    ``relationships`` are its object-to-object relations."""

    id: str
    type: str
    attributes: tuple[OcelAttribute, ...] = ()
    relationships: tuple[Relationship, ...] = ()


@attrs.frozen
class ExportSummary:
    """What an export wrote: counts, the file and its size in bytes, the seconds taken."""

    format: str
    path: str
    events: int
    objects: int
    bytes: int
    seconds: float
    traces: int = 0


def attribute_type(value: AttrValue) -> str:
    """The OCEL 2.0 attribute type name of ``value``."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, dt.datetime):
        return "time"
    return "string"


def iso(instant: dt.datetime) -> str:
    """An instant as ISO 8601 text in UTC with a ``Z`` (what OCEL and XES readers parse)."""
    return instant.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


class TypeCatalog:
    """Attribute names and types per event type and per object type, as seen while
    streaming. Small (types, not instances), so it stays in memory to the end."""

    def __init__(self) -> None:
        self.events: dict[str, dict[str, str]] = {}
        self.objects: dict[str, dict[str, str]] = {}

    def see_event(self, event: OcelEvent) -> None:
        """Remember ``event``'s type and its attributes' types."""
        known = self.events.setdefault(event.type, {})
        for a in event.attributes:
            known.setdefault(a.name, attribute_type(a.value))

    def see_object(self, obj: OcelObject) -> None:
        """Remember ``obj``'s type and its attributes' types."""
        known = self.objects.setdefault(obj.type, {})
        for a in obj.attributes:
            known.setdefault(a.name, attribute_type(a.value))
