"""Two streamed passes over a store's log, shared by the OCEL writers.

Pass one (:meth:`LogStream.events`) yields one event per audit entry and remembers only
what is small: the factories seen and the requested dates agreed after submission. Pass
two (:meth:`LogStream.objects`) re-reads just the ``created`` entries for orders and
lines (with those dates as the attribute's history), then the master data. Memory stays
flat in the number of orders; the types seen are collected in :attr:`LogStream.catalog`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from orderflow.audit import EntryType, decode
from orderflow.clock import from_micros
from orderflow.export.mapping import (
    CHUNK,
    event_of,
    log_entries,
    master_objects,
    order_facts,
    order_objects,
)
from orderflow.export.model import OcelEvent, OcelObject, TypeCatalog
from orderflow.logstream import entries
from orderflow.ports import Store

__all__ = ["LogStream"]

_CREATED = b'"type":"created"'


class LogStream:
    """Events, then objects, of one store's log; iterate :meth:`events` before
    :meth:`objects` (the objects carry what the events pass learnt)."""

    def __init__(self, store: Store, *, chunk: int = CHUNK) -> None:
        self.store = store
        self.chunk = chunk
        self.catalog = TypeCatalog()
        self.factories: set[str] = set()
        self.dates: dict[str, list[tuple[dt.datetime, str]]] = {}
        self.policy = False
        self.event_count = 0
        self.object_count = 0

    def events(self) -> Iterator[OcelEvent]:
        """One event per audit entry, in log order."""
        for index, entry in log_entries(self.store, chunk=self.chunk):
            facts = None
            if entry.type is EntryType.CREATED:
                facts = order_facts(entry)
                self.factories.add(facts.factory_id)
            elif entry.type is EntryType.POLICY_CHANGE:
                self.policy = True
            elif entry.type is EntryType.FIELD_UPDATE:
                new = entry.changes_map.get("requested_date", (None, None))[1]
                if isinstance(new, str):
                    at = from_micros(entry.at)
                    self.dates.setdefault(entry.order_id, []).append((at, new))
            event = event_of(index, entry, facts)
            self.catalog.see_event(event)
            self.event_count += 1
            yield event

    def objects(self) -> Iterator[OcelObject]:
        """Orders and lines (from ``created`` entries), then master data and factories."""
        for data in entries(self.store, chunk=self.chunk):
            if _CREATED not in data:
                continue  # cheap test first: most entries are not order creations
            entry = decode(data)
            if entry.type is not EntryType.CREATED:
                continue
            later = self.dates.get(entry.order_id, [])
            yield from self._seen(order_objects(entry, order_facts(entry), later))
        yield from self._seen(master_objects(self.store, self.factories, policy=self.policy))

    def _seen(self, objects: Iterator[OcelObject] | list[OcelObject]) -> Iterator[OcelObject]:
        for obj in objects:
            self.catalog.see_object(obj)
            self.object_count += 1
            yield obj
