"""No export carries a secret: never the query token's hash, never the slip code."""

from __future__ import annotations

import re
import shutil
import sqlite3
from pathlib import Path

from orderflow.bootstrap import connect
from orderflow.export import write_ocel_json, write_ocel_sqlite, write_xes
from orderflow.service import OrderService

V010 = Path(__file__).parents[1] / "audit" / "data" / "v0_1_0" / "orderflow-0.1.0.db"


def _exports(svc: OrderService, folder: Path) -> str:
    write_ocel_json(svc.store, folder / "log.jsonocel")
    write_xes(svc.store, folder / "log.xes")
    write_ocel_sqlite(svc.store, folder / "log.sqlite")
    db = sqlite3.connect(folder / "log.sqlite")
    try:
        dump = "\n".join(db.iterdump())
    finally:
        db.close()
    return "\n".join(
        [(folder / "log.jsonocel").read_text("utf-8"), (folder / "log.xes").read_text("utf-8"),
         dump]
    )  # fmt: skip


def _values(text: str) -> set[str]:
    # every quoted value (JSON, XML attributes, SQL literals): a six-digit code could
    # occur inside a timestamp's microseconds, never as a value of its own
    return set(re.findall(r"[\"'](\w+)[\"']", text))


def test_tokens_hashes_and_slip_codes_stay_out(year: OrderService, tmp_path: Path) -> None:
    text = _exports(year, tmp_path)
    values = _values(text)
    assert "query_token" not in text and "verification_code" not in text
    for order in year.store.orders():
        assert order.query_token_hash not in text
        assert year.slip_code(order.id, actor="office") not in values


def test_a_0_1_0_payload_keeps_its_slip_code_to_itself(tmp_path: Path) -> None:
    # orderflow 0.1.0 wrote the slip code into the created entry's positional row
    copy = tmp_path / "old.db"
    shutil.copy(V010, copy)
    svc = connect(f"sqlite:///{copy}")
    try:
        with sqlite3.connect(copy) as db:
            codes = {code for (code,) in db.execute("SELECT verification_code FROM orders")}
        text = _exports(svc, tmp_path)
        values = _values(text)
        assert codes and not codes & values
        for order in svc.store.orders():
            assert order.query_token_hash not in text
    finally:
        svc.store.close()
