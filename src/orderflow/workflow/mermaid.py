"""Mermaid ``stateDiagram-v2`` export of a workflow definition."""

from __future__ import annotations

from orderflow.workflow.definition import RETURN, WorkflowDefinition

__all__ = ["to_mermaid"]


def to_mermaid(definition: WorkflowDefinition) -> str:
    """Render ``definition`` as Mermaid text; guards and reasons label the edges."""
    lines = ["stateDiagram-v2", f"    [*] --> {definition.initial}"]
    for t in definition.transitions:
        label = t.event
        if t.guards:
            label += " [" + ", ".join(t.guards) + "]"
        if t.requires_reason:
            label += " (reason)"
        for source in t.source:
            if t.target == RETURN:
                lines.append(f"    {source} --> {source}_return: {label}")
                lines.append(f'    state "back to held stage" as {source}_return')
            else:
                lines.append(f"    {source} --> {t.target}: {label}")
    lines.extend(f"    {s} --> [*]" for s in definition.terminal)
    return "\n".join(lines) + "\n"
