"""Definitions are data, checked when built; documents round-trip (R3)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from orderflow import DefinitionError
from orderflow.workflow import (
    DEFAULT_DEFINITION,
    GuardRegistry,
    definition_document,
    dump_definition,
    load_definition,
    parse_definition,
)


def doc() -> dict[str, Any]:
    return definition_document(DEFAULT_DEFINITION)


def test_toml_and_json_files_round_trip(tmp_path: Path) -> None:
    for fmt in ("toml", "json"):
        path = tmp_path / f"wf.{fmt}"
        path.write_text(dump_definition(DEFAULT_DEFINITION, fmt), encoding="utf-8")
        assert load_definition(path, GuardRegistry().names()) == DEFAULT_DEFINITION


def test_errors_point_at_the_key() -> None:
    d = doc()
    del d["transitions"][2]["target"]
    d["stagez"] = []
    with pytest.raises(DefinitionError) as info:
        parse_definition(d)
    assert "transitions.2.target: Field required" in str(info.value)
    assert "stagez: Extra inputs are not permitted" in str(info.value)


def test_skip_is_refused() -> None:
    d = doc()
    d["transitions"].append(
        {"event": "rush", "source": ["kitting_locked"], "target": "qc_released"}
    )
    with pytest.raises(DefinitionError, match="would skip mandatory stage 'production_dispatched'"):
        parse_definition(d)


def test_skip_through_a_side_stage_is_refused() -> None:
    d = doc()
    d["transitions"].append(
        {"event": "unhold_to_delivery", "source": ["on_hold"], "target": "delivered"}
    )
    with pytest.raises(DefinitionError, match="would skip"):
        parse_definition(d)


def test_unreachable_dead_end_and_unknowns_reported_together() -> None:
    d = doc()
    d["stages"] += ["limbo", "orphan"]
    d["transitions"].append({"event": "to_limbo", "source": ["pending_review"], "target": "limbo"})
    d["transitions"].append(
        {
            "event": "x",
            "source": ["kitting_locked"],
            "target": "on_hold",
            "guards": ["no_such_guard"],
        }
    )
    with pytest.raises(DefinitionError) as info:
        parse_definition(d, GuardRegistry().names())
    problems = info.value.problems
    assert any("unknown guard 'no_such_guard'" in p for p in problems)
    d["transitions"].pop()
    with pytest.raises(DefinitionError) as info:
        parse_definition(d)
    text = str(info.value)
    assert "'orphan' is unreachable" in text
    assert "'limbo' is a dead end" in text


def test_duplicate_event_and_terminal_outgoing() -> None:
    d = doc()
    d["transitions"].append(
        {"event": "lock_kitting", "source": ["pending_review"], "target": "cancelled"}
    )
    d["transitions"].append(
        {"event": "reopen", "source": ["delivered"], "target": "pending_review"}
    )
    with pytest.raises(DefinitionError) as info:
        parse_definition(d)
    text = str(info.value)
    assert "defined twice from stage 'pending_review'" in text
    assert "terminal stage 'delivered'" in text


def test_bad_file(tmp_path: Path) -> None:
    bad = tmp_path / "wf.json"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(DefinitionError, match="not valid json"):
        load_definition(bad)
    with pytest.raises(DefinitionError, match="cannot read"):
        load_definition(tmp_path / "missing.toml")
    (tmp_path / "list.json").write_text(json.dumps([1]), encoding="utf-8")
    with pytest.raises(DefinitionError, match="table/object"):
        load_definition(tmp_path / "list.json")
