"""OCEL 2.0 JSON (``.jsonocel``), written as a stream.

The file is one JSON object with the four members of the OCEL 2.0 JSON format:
``events`` (``id``, ``type``, ``time``, ``attributes`` of ``{name, value}``,
``relationships`` of ``{objectId, qualifier}``), ``objects`` (``id``, ``type``,
``attributes`` of ``{name, time, value}``, ``relationships``), ``eventTypes`` and
``objectTypes`` (``name`` and ``attributes`` of ``{name, type}``). JSON does not order
an object's members, so the type declarations come last, once every type has been seen:
nothing is held back while writing.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from orderflow.export.mapping import CHUNK
from orderflow.export.model import (
    AttrValue,
    ExportSummary,
    OcelAttribute,
    OcelEvent,
    OcelObject,
    Relationship,
    iso,
)
from orderflow.export.stream import LogStream
from orderflow.ports import Store

__all__ = ["EPOCH", "write_ocel_json"]

EPOCH = "1970-01-01T00:00:00Z"
"""The ``time`` of an object attribute's initial value (the format's convention)."""

_str = json.encoder.encode_basestring_ascii


def _value(value: AttrValue) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return _str(value)
    return _str(iso(value))


def _relations(relations: tuple[Relationship, ...]) -> str:
    return ",".join(
        f'{{"objectId":{_str(r.object_id)},"qualifier":{_str(r.qualifier)}}}' for r in relations
    )


def _event(e: OcelEvent) -> str:
    attrs = ",".join(f'{{"name":{_str(a.name)},"value":{_value(a.value)}}}' for a in e.attributes)
    return (
        f'{{"id":{_str(e.id)},"type":{_str(e.type)},"time":"{iso(e.time)}",'
        f'"attributes":[{attrs}],"relationships":[{_relations(e.relationships)}]}}'
    )


def _object_attr(a: OcelAttribute) -> str:
    at = EPOCH if a.time is None else iso(a.time)
    return f'{{"name":{_str(a.name)},"time":"{at}","value":{_value(a.value)}}}'


def _object(o: OcelObject) -> str:
    attrs = ",".join(_object_attr(a) for a in o.attributes)
    return (
        f'{{"id":{_str(o.id)},"type":{_str(o.type)},"attributes":[{attrs}],'
        f'"relationships":[{_relations(o.relationships)}]}}'
    )


def _types(types: dict[str, dict[str, str]]) -> str:
    return json.dumps(
        [
            {"name": name, "attributes": [{"name": n, "type": t} for n, t in sorted(a.items())]}
            for name, a in sorted(types.items())
        ]
    )


def write_ocel_json(store: Store, out: str | Path, *, chunk: int = CHUNK) -> ExportSummary:
    """Write the store's audit log as OCEL 2.0 JSON to ``out``; stream, never hold it.

    Every audit entry becomes one event; orders, order lines, customers, products,
    components and factories become objects (see :mod:`orderflow.export`); the log is
    read ``chunk`` entries at a time.
    """
    started = time.perf_counter()
    stream = LogStream(store, chunk=chunk)
    path = Path(out)
    with path.open("w", encoding="utf-8", newline="\n") as fh:
        fh.write('{"events":[')
        sep = "\n"
        for event in stream.events():
            fh.write(sep + _event(event))
            sep = ",\n"
        fh.write('],\n"objects":[')
        sep = "\n"
        for obj in stream.objects():
            fh.write(sep + _object(obj))
            sep = ",\n"
        fh.write('],\n"eventTypes":' + _types(stream.catalog.events))
        fh.write(',\n"objectTypes":' + _types(stream.catalog.objects) + "}\n")
    return ExportSummary(
        "ocel-json",
        str(path),
        stream.event_count,
        stream.object_count,
        path.stat().st_size,
        time.perf_counter() - started,
    )
