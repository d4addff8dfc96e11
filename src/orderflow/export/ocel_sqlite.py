"""OCEL 2.0 SQLite, written as a stream (standard library ``sqlite3``).

The tables of the OCEL 2.0 relational format: ``event`` and ``object`` (``ocel_id``,
``ocel_type``); ``event_map_type`` and ``object_map_type`` (``ocel_type`` to the
``ocel_type_map`` suffix of its table); one ``event_<type>`` table per event type
(``ocel_id``, ``ocel_time``, its attributes) and one ``object_<type>`` table per object
type (``ocel_id``, ``ocel_time``, ``ocel_changed_field``, its attributes: a row with no
changed field holds the initial values, each later row one changed value);
``event_object`` (``ocel_event_id``, ``ocel_object_id``, ``ocel_qualifier``) and
``object_object`` (``ocel_source_id``, ``ocel_target_id``, ``ocel_qualifier``).

Rows are inserted as they stream; the per-type tables are only created once their type's
attributes are known, so rows wait in a small staging table keyed by type until the end.
"""

from __future__ import annotations

import json
import re
import sqlite3
import time
from collections.abc import Iterable
from pathlib import Path

from orderflow.exceptions import InputError
from orderflow.export.model import AttrValue, ExportSummary, OcelObject, iso
from orderflow.export.ocel_json import EPOCH
from orderflow.export.stream import LogStream
from orderflow.ports import Store

__all__ = ["write_ocel_sqlite"]

_SQL_TYPES = {"string": "TEXT", "time": "TEXT", "integer": "INTEGER", "boolean": "INTEGER"}
_BATCH = 5_000


def _map_name(name: str, taken: set[str]) -> str:
    # a table-name suffix from a type name; distinct types never share one
    base = re.sub(r"[^A-Za-z0-9]+", "", name.title()) or "Type"
    candidate, n = base, 1
    while candidate in taken:
        n += 1
        candidate = f"{base}{n}"
    taken.add(candidate)
    return candidate


def _sql(value: AttrValue | None) -> object:
    if value is None or isinstance(value, str | int):
        return value  # bool is an int: 0/1, as SQLite keeps booleans
    return iso(value)


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def write_ocel_sqlite(store: Store, out: str | Path) -> ExportSummary:
    """Write the store's audit log as an OCEL 2.0 SQLite database at ``out`` (a new file).

    Raises :class:`~orderflow.InputError` if ``out`` exists (an export never overwrites).
    """
    started = time.perf_counter()
    path = Path(out)
    if path.exists():
        raise InputError(f"{path} exists; remove it or choose another --out")
    stream = LogStream(store)
    db = sqlite3.connect(path)
    try:
        db.executescript(
            """
            PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;
            CREATE TABLE event (ocel_id TEXT PRIMARY KEY, ocel_type TEXT);
            CREATE TABLE object (ocel_id TEXT PRIMARY KEY, ocel_type TEXT);
            CREATE TABLE event_object (ocel_event_id TEXT, ocel_object_id TEXT,
                                       ocel_qualifier TEXT);
            CREATE TABLE object_object (ocel_source_id TEXT, ocel_target_id TEXT,
                                        ocel_qualifier TEXT);
            CREATE TABLE event_map_type (ocel_type TEXT, ocel_type_map TEXT);
            CREATE TABLE object_map_type (ocel_type TEXT, ocel_type_map TEXT);
            CREATE TEMP TABLE staged (kind TEXT, type TEXT, row TEXT);
            """
        )
        _events(db, stream)
        _objects(db, stream.objects())
        _typed_tables(db, stream)
        db.commit()
    finally:
        db.close()
    return ExportSummary(
        "ocel-sqlite",
        str(path),
        stream.event_count,
        stream.object_count,
        path.stat().st_size,
        time.perf_counter() - started,
    )


def _flush(db: sqlite3.Connection, rows: dict[str, list[tuple[object, ...]]]) -> None:
    for sql, batch in rows.items():
        if batch:
            db.executemany(sql, batch)
            batch.clear()


_EVENT = "INSERT INTO event VALUES (?, ?)"
_E2O = "INSERT INTO event_object VALUES (?, ?, ?)"
_OBJECT = "INSERT INTO object VALUES (?, ?)"
_O2O = "INSERT INTO object_object VALUES (?, ?, ?)"
_STAGED = "INSERT INTO staged VALUES (?, ?, ?)"


def _events(db: sqlite3.Connection, stream: LogStream) -> None:
    rows: dict[str, list[tuple[object, ...]]] = {_EVENT: [], _E2O: [], _STAGED: []}
    for n, e in enumerate(stream.events(), 1):
        rows[_EVENT].append((e.id, e.type))
        rows[_E2O] += [(e.id, r.object_id, r.qualifier) for r in e.relationships]
        values = {a.name: _sql(a.value) for a in e.attributes}
        rows[_STAGED].append(("e", e.type, json.dumps([e.id, iso(e.time), values])))
        if n % _BATCH == 0:
            _flush(db, rows)
    _flush(db, rows)


def _objects(db: sqlite3.Connection, objects: Iterable[OcelObject]) -> None:
    rows: dict[str, list[tuple[object, ...]]] = {_OBJECT: [], _O2O: [], _STAGED: []}
    for n, o in enumerate(objects, 1):
        rows[_OBJECT].append((o.id, o.type))
        rows[_O2O] += [(o.id, r.object_id, r.qualifier) for r in o.relationships]
        initial = {a.name: _sql(a.value) for a in o.attributes if a.time is None}
        rows[_STAGED].append(("o", o.type, json.dumps([o.id, EPOCH, None, initial])))
        for a in o.attributes:
            if a.time is not None:
                change = [o.id, iso(a.time), a.name, {a.name: _sql(a.value)}]
                rows[_STAGED].append(("o", o.type, json.dumps(change)))
        if n % _BATCH == 0:
            _flush(db, rows)
    _flush(db, rows)


def _typed_tables(db: sqlite3.Connection, stream: LogStream) -> None:
    """Create ``event_<type>`` / ``object_<type>`` and move the staged rows into them."""
    for kind, types in (("e", stream.catalog.events), ("o", stream.catalog.objects)):
        prefix = "event" if kind == "e" else "object"
        taken: set[str] = set()
        for type_name, attributes in sorted(types.items()):
            suffix = _map_name(type_name, taken)
            db.execute(f"INSERT INTO {prefix}_map_type VALUES (?, ?)", (type_name, suffix))
            names = sorted(attributes)
            fixed = ["ocel_id", "ocel_time"] + (["ocel_changed_field"] if kind == "o" else [])
            columns = [f"{c} TEXT" for c in fixed]
            columns += [f"{_q(n)} {_SQL_TYPES.get(attributes[n], 'TEXT')}" for n in names]
            table = _q(f"{prefix}_{suffix}")
            db.execute(f"CREATE TABLE {table} ({', '.join(columns)})")
            marks = ", ".join("?" * (len(fixed) + len(names)))
            insert = f"INSERT INTO {table} VALUES ({marks})"
            cursor = db.execute(
                "SELECT row FROM staged WHERE kind = ? AND type = ?", (kind, type_name)
            )
            while batch := cursor.fetchmany(_BATCH):
                out = []
                for (text,) in batch:
                    *head, values = json.loads(text)
                    out.append((*head, *(values.get(n) for n in names)))
                db.executemany(insert, out)
