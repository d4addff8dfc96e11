"""Canonical entry encoding: exact bytes, strict decoding, cheap link extraction."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from orderflow.audit import (
    GENESIS_HASH,
    AuditEntry,
    ChainHead,
    EntryType,
    FieldChange,
    decode,
    encode,
    entry_link,
    leaf_hash,
    next_entry,
)
from orderflow.exceptions import InputError

NONCE = bytes(range(16))


def first(**kw: object) -> AuditEntry:
    args: dict[str, object] = {
        "origin": "plant1.example/audit",
        "order_id": "HY20260122-887",
        "type": EntryType.CREATED,
        "actor": "sales.zhang",
        "at": 1_768_000_000_000_000,
        "nonce": NONCE,
    }
    args.update(kw)
    return next_entry(None, **args)  # type: ignore[arg-type]


def test_first_entry_starts_the_chain_at_seq_0_with_zero_hash() -> None:
    entry = first()
    assert entry.seq == 0
    assert entry.prev_hash == GENESIS_HASH == bytes(32)
    data = encode(entry)
    second = next_entry(
        ChainHead(entry.seq, leaf_hash(data)),
        origin=entry.origin,
        order_id=entry.order_id,
        type="state_change",
        actor="wang.li",
        at=entry.at + 1,
        from_state="pending_review",
        to_state="kitting_locked",
    )
    assert second.seq == 1
    assert second.prev_hash == leaf_hash(data)
    assert len(second.nonce) == 16
    assert second.nonce != entry.nonce


def test_encoding_is_sorted_compact_json_with_every_field() -> None:
    entry = first(
        changes={"qty": (None, 100), "price": (Decimal("1.50"), Decimal("2"))},
        context={"device": "pda-7", "batch": "20260118-B03"},
        idempotency_key="k1",
    )
    data = encode(entry)
    obj = json.loads(data)
    assert list(obj) == sorted(obj)
    assert (
        data == json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    )
    assert obj["changes"] == {
        "price": {"new": "2", "old": "1.50"},
        "qty": {"new": 100, "old": None},
    }
    assert obj["ctx"] == {"batch": "20260118-B03", "device": "pda-7"}
    assert obj["prev"] == "00" * 32 and obj["seq"] == 0 and obj["v"] == 2
    assert obj["nonce"] == NONCE.hex() and obj["type"] == "created"


def test_round_trip_and_unicode_kept_verbatim() -> None:
    entry = first(actor="王丽", context={"reason": '图纸版本冲突 "v2"\n'})
    data = encode(entry)
    assert "王丽".encode() in data
    assert decode(data) == entry
    assert encode(decode(data)) == data


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"changes": {"qty": (1.5, 2)}}, "floats"),
        ({"changes": {"qty": (0, 2**53 + 1)}}, "2\\*\\*53"),
        ({"changes": {"数量": (0, 1)}}, "ASCII"),
        ({"actor": "e\u0301"}, "NFC"),
        ({"at": -1}, "timestamp"),
        ({"at": 1.5}, "timestamp"),
        ({"type": "deleted"}, "unknown entry type"),
        ({"order_id": ""}, "order id"),
        ({"actor": "\ud800"}, "Unicode"),
        ({"changes": {"qty": (Decimal("NaN"), 1)}}, "finite"),
        ({"nonce": b""}, "nonce"),
    ],
)
def test_values_that_cannot_be_canonical_are_refused(kw: dict[str, object], message: str) -> None:
    with pytest.raises(InputError, match=message):
        first(**kw)


def test_direct_construction_is_validated_too() -> None:
    with pytest.raises(InputError, match="sorted"):
        AuditEntry(
            origin="o",
            order_id="x",
            seq=0,
            prev_hash=GENESIS_HASH,
            type=EntryType.CREATED,
            actor="a",
            at=0,
            nonce=NONCE,
            changes=(FieldChange("b", 1, 2), FieldChange("a", 1, 2)),
        )
    with pytest.raises(InputError, match="EntryType"):
        AuditEntry(
            origin="o",
            order_id="x",
            seq=0,
            prev_hash=GENESIS_HASH,
            type="created",  # type: ignore[arg-type]
            actor="a",
            at=0,
            nonce=NONCE,
        )


@pytest.mark.parametrize(
    "mutate",
    [
        lambda s: s.replace('"at":', ' "at":'),  # whitespace
        lambda s: s.replace('"actor":"sales.zhang",', "") + "",  # missing field
        lambda s: s[:-1] + ',"v":2}',  # duplicate key
        lambda s: s.replace('"seq":0', '"seq":0.0'),  # float
        lambda s: s.replace('"seq":0', '"seq":-0'),  # non-canonical integer
        lambda s: s.replace("sales.zhang", "sales\\u002ezhang"),  # needless escape
        lambda s: s.replace('{"actor":"sales.zhang","at"', '{"at"').replace(
            '"changes"', '"actor":"sales.zhang","changes"'
        ),  # key order
        lambda s: s.replace('"v":2', '"v":3'),
        lambda s: s.replace('"type":"created"', '"type":"deleted"'),
        lambda s: s.replace('"prev":"00', '"prev":"zz'),
    ],
)
def test_decode_is_strict(mutate: object) -> None:
    text = encode(first()).decode()
    bad = mutate(text)  # type: ignore[operator]
    assert bad != text
    with pytest.raises(InputError):
        decode(bad.encode())


def test_decode_refuses_invalid_utf8_and_non_objects() -> None:
    for data in (b"\xff", b"[]", b"", b"{}"):
        with pytest.raises(InputError):
            decode(data)


def test_entry_link_agrees_with_decode() -> None:
    entry = first(order_id='HY"887"\\x', to_state='a","order":"fake', actor="李")
    data = encode(entry)
    key, seq, prev = entry_link(data)
    assert json.loads(b'"' + key + b'"') == entry.order_id
    assert (seq, prev) == (entry.seq, entry.prev_hash)
    with pytest.raises(InputError):
        entry_link(data.replace(b'"prev"', b'"prew"'))


def test_helpers_expose_maps() -> None:
    entry = first(changes={"qty": (1, 2)}, context={"device": "d"})
    assert entry.changes_map == {"qty": (1, 2)}
    assert entry.context_map == {"device": "d"}
