"""Tamper evidence without gaps, and the CLI evidence round trip (R5).

One 2,000-order year is simulated into SQLite once; each test works on a copy.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from orderflow.cli import main

ORDERS = 2_000


@pytest.fixture(scope="module")
def year(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("year") / "year.db"
    assert main(["simulate", "--db", str(db), "--orders", str(ORDERS), "--quiet"]) == 0
    return db


@pytest.fixture
def db(year: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "copy.db"
    shutil.copy(year, copy)
    return copy


def _sql(db: Path, sql: str, params: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql, params).fetchall()


def _flip(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1 :]


def _chain_entry(db: Path, which: str) -> int:
    """The global index of the first, a middle or the newest entry of one order's chain."""
    ((chain,),) = _sql(
        db, "SELECT chain FROM audit_log WHERE chain NOT LIKE 'stock/%' AND chain <> 'policy' "
        "GROUP BY chain HAVING COUNT(*) >= 5 ORDER BY chain LIMIT 1",
    )  # fmt: skip
    seqs = [int(str(s)) for (s,) in _sql(db, "SELECT seq FROM audit_log WHERE chain = ?", (chain,))]
    seq = {"first": 0, "middle": len(seqs) // 2, "newest": max(seqs)}[which]
    ((idx,),) = _sql(db, "SELECT idx FROM audit_log WHERE chain = ? AND seq = ?", (chain, seq))
    return int(str(idx)) - 1


def _verify(db: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["audit", "verify", "--db", str(db)])
    out = capsys.readouterr()
    return code, out.out + out.err


def test_the_untouched_year_verifies_against_its_stored_checkpoint(
    db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, text = _verify(db, capsys)
    assert code == 0, text
    assert "anchored by 1 stored checkpoint" in text


@pytest.mark.parametrize("which", ["first", "middle", "newest"])
def test_one_flipped_byte_in_an_entry_names_that_entry(
    db: Path, which: str, capsys: pytest.CaptureFixture[str]
) -> None:
    index = _chain_entry(db, which)
    ((data,),) = _sql(db, "SELECT data FROM audit_log WHERE idx = ?", (index + 1,))
    assert isinstance(data, bytes)
    at = data.index(b'"actor":"') + 10  # inside the actor's name: still valid JSON
    _sql(db, "UPDATE audit_log SET data = ? WHERE idx = ?", (_flip(data, at), index + 1))
    code, text = _verify(db, capsys)
    assert code != 0
    assert f"audit log entry {index}:" in text


def test_a_rewritten_newest_entry_with_its_leaf_breaks_the_checkpoint(
    db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from orderflow.audit import leaf_hash

    index = _chain_entry(db, "newest")
    ((data,),) = _sql(db, "SELECT data FROM audit_log WHERE idx = ?", (index + 1,))
    assert isinstance(data, bytes)
    changed = _flip(data, data.index(b'"actor":"') + 10)
    _sql(db, "UPDATE audit_log SET data = ?, leaf = ? WHERE idx = ?",
         (changed, leaf_hash(changed), index + 1))  # fmt: skip
    code, text = _verify(db, capsys)
    assert code != 0
    assert "root_mismatch" in text and "checkpoint" in text


def test_one_flipped_byte_in_a_stored_leaf_names_its_entry(
    db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    index = _chain_entry(db, "middle")
    ((leaf,),) = _sql(db, "SELECT leaf FROM audit_log WHERE idx = ?", (index + 1,))
    assert isinstance(leaf, bytes)
    _sql(db, "UPDATE audit_log SET leaf = ? WHERE idx = ?", (_flip(leaf, 7), index + 1))
    code, text = _verify(db, capsys)
    assert code != 0
    assert f"audit log entry {index}: edited" in text


@pytest.mark.parametrize("field", ["root", "size"])
def test_a_changed_stored_checkpoint_is_refused(
    db: Path, field: str, capsys: pytest.CaptureFixture[str]
) -> None:
    ((key, body),) = _sql(db, "SELECT key, body FROM docs WHERE kind = 'checkpoint'")
    doc = json.loads(str(body))
    if field == "root":
        doc["root"] = doc["root"][:10] + ("0" if doc["root"][10] != "0" else "1") + doc["root"][11:]
    else:
        doc["size"] -= 1
    _sql(db, "UPDATE docs SET body = ? WHERE kind = 'checkpoint' AND key = ?",
         (json.dumps(doc), key))  # fmt: skip
    code, text = _verify(db, capsys)
    assert code != 0
    assert "checkpoint" in text


def test_cli_evidence_round_trip(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    keys = tmp_path / "keys"
    keys.mkdir()
    assert main(["audit", "keygen", "--name", "orderflow.local/plant", "--out", str(keys)]) == 0
    skey, vkey = keys / "orderflow.local_plant.skey", keys / "orderflow.local_plant.vkey"
    assert skey.stat().st_mode & 0o077 == 0  # the private key is readable by its owner only
    capsys.readouterr()
    assert main(["audit", "checkpoint", "--db", str(db), "--key", str(skey)]) == 0
    note = capsys.readouterr().out
    assert note.startswith("orderflow.local/plant\n") and "\n\n— orderflow.local/plant " in note
    ((number,),) = _sql(db, "SELECT number FROM orders ORDER BY number LIMIT 1")
    assert main(["order", "show", str(number), "--db", str(db)]) == 0
    shown = capsys.readouterr().out
    assert f"order {number}" in shown and "created" in shown
    bundle = tmp_path / "bundle.json"
    assert main(["audit", "bundle", str(number), "--db", str(db), "--out", str(bundle)]) == 0
    assert "signed checkpoint" in capsys.readouterr().out
    check = [sys.executable, "-m", "orderflow.audit.verify", str(bundle), "--key", str(vkey)]
    ok = subprocess.run(check, capture_output=True, text=True, check=False)
    assert ok.returncode == 0, ok.stderr
    assert "signature: verified" in ok.stdout
    # a customer's copy changed by one byte no longer verifies
    text = bundle.read_text(encoding="utf-8")
    at = text.index('\\"actor\\":\\"') + 12
    bundle.write_text(text[:at] + chr(ord(text[at]) ^ 1) + text[at + 1 :], encoding="utf-8")
    bad = subprocess.run(check, capture_output=True, text=True, check=False)
    assert bad.returncode == 1, bad.stdout + bad.stderr
    # no secret in the bundle: no query token, no slip code
    assert "verification_code" not in text


def test_a_signer_refuses_a_log_rewritten_since_its_last_signature(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["audit", "keygen", "--name", "orderflow.local/plant", "--out", str(tmp_path)]) == 0
    skey = tmp_path / "orderflow.local_plant.skey"
    assert main(["audit", "checkpoint", "--db", str(db), "--key", str(skey)]) == 0
    # rewrite history below the signed size, leaves included, then ask for a new signature
    from orderflow.audit import leaf_hash

    ((data,),) = _sql(db, "SELECT data FROM audit_log WHERE idx = 3")
    assert isinstance(data, bytes)
    changed = _flip(data, data.index(b'"actor":"') + 10)
    _sql(db, "UPDATE audit_log SET data = ?, leaf = ? WHERE idx = 3", (changed, leaf_hash(changed)))
    capsys.readouterr()
    assert main(["audit", "checkpoint", "--db", str(db), "--key", str(skey)]) == 1
    assert "refusing to sign" in capsys.readouterr().err
