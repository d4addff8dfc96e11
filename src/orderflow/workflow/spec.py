"""Workflow definitions as TOML/JSON documents, validated by pydantic at the boundary.

Errors point at the offending key (``transitions.2.target: Field required``). A
document is converted to a :class:`~orderflow.workflow.WorkflowDefinition` and then
checked as a whole (unknown guards, unreachable stages, dead ends, skips).
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pydantic
import tomli_w
from pydantic import BaseModel, ConfigDict, Field

from orderflow.exceptions import DefinitionError
from orderflow.workflow.definition import StageLabel, Transition, WorkflowDefinition

__all__ = [
    "definition_document",
    "dump_definition",
    "load_definition",
    "parse_definition",
]

_NAME = r"^@?[A-Za-z_][A-Za-z0-9_.-]*$"


class _TransitionDoc(BaseModel):
    model_config = ConfigDict(extra="forbid")
    event: str = Field(pattern=_NAME)
    source: list[str] = Field(min_length=1)
    target: str = Field(pattern=_NAME)
    guards: list[str] = Field(default_factory=list)
    requires_reason: bool = False
    description: str = ""


class _LabelDoc(BaseModel):
    model_config = ConfigDict(extra="forbid")
    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)


class _DefinitionDoc(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1)
    stages: list[str] = Field(min_length=1)
    mainline: list[str] = Field(min_length=1)
    initial: str
    terminal: list[str] = Field(default_factory=list)
    transitions: list[_TransitionDoc] = Field(min_length=1)
    labels: dict[str, _LabelDoc] = Field(default_factory=dict)


def parse_definition(
    document: Mapping[str, Any], known_guards: tuple[str, ...] | None = None
) -> WorkflowDefinition:
    """Validate a definition document and return the checked definition.

    ``known_guards`` (e.g. ``GuardRegistry.default().names()``) also checks guard names.
    """
    try:
        doc = _DefinitionDoc.model_validate(dict(document))
    except pydantic.ValidationError as exc:
        problems = [
            f"{'.'.join(str(p) for p in e['loc']) or '(document)'}: {e['msg']}"
            for e in exc.errors()
        ]
        raise DefinitionError(problems) from None
    definition = WorkflowDefinition(
        name=doc.name,
        stages=doc.stages,
        mainline=doc.mainline,
        initial=doc.initial,
        terminal=doc.terminal,
        transitions=[
            Transition(
                event=t.event,
                source=t.source,
                target=t.target,
                guards=t.guards,
                requires_reason=t.requires_reason,
                description=t.description,
            )
            for t in doc.transitions
        ],
        labels={k: StageLabel(v.zh, v.en) for k, v in doc.labels.items()},
    )
    definition.check(known_guards)
    return definition


def definition_document(definition: WorkflowDefinition) -> dict[str, Any]:
    """The definition as a plain document that :func:`parse_definition` reads back."""
    return {
        "name": definition.name,
        "stages": list(definition.stages),
        "mainline": list(definition.mainline),
        "initial": definition.initial,
        "terminal": list(definition.terminal),
        "transitions": [
            {
                "event": t.event,
                "source": list(t.source),
                "target": t.target,
                "guards": list(t.guards),
                "requires_reason": t.requires_reason,
                "description": t.description,
            }
            for t in definition.transitions
        ],
        "labels": {k: {"zh": v.zh, "en": v.en} for k, v in definition.labels.items()},
    }


def dump_definition(definition: WorkflowDefinition, fmt: str = "toml") -> str:
    """Serialise a definition as ``"toml"`` or ``"json"`` text."""
    doc = definition_document(definition)
    if fmt == "toml":
        return tomli_w.dumps(doc)
    if fmt == "json":
        return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    raise DefinitionError([f"format: unknown format {fmt!r} (use 'toml' or 'json')"])


def load_definition(
    path: str | Path, known_guards: tuple[str, ...] | None = None
) -> WorkflowDefinition:
    """Read a definition from a ``.toml`` or ``.json`` file."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise DefinitionError([f"{p}: cannot read ({exc.strerror})"]) from None
    try:
        doc = tomllib.loads(text) if p.suffix == ".toml" else json.loads(text)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        raise DefinitionError([f"{p}: not valid {p.suffix.lstrip('.') or 'JSON'}: {exc}"]) from None
    if not isinstance(doc, dict):
        raise DefinitionError([f"{p}: the document must be a table/object"])
    return parse_definition(doc, known_guards)
