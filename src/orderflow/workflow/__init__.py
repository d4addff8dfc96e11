"""The workflow engine (R3): definitions as data, named guards that explain, the machine."""

from __future__ import annotations

from orderflow.workflow.definition import (
    DEFAULT_DEFINITION,
    RETURN,
    StageLabel,
    Transition,
    WorkflowDefinition,
    default_definition,
)
from orderflow.workflow.facts import CapacitySchedule, CapacitySlot, Facts
from orderflow.workflow.guards import (
    BUILTIN_GUARDS,
    Guard,
    GuardRegistry,
    GuardResult,
    bom_kitting,
    capacity_slot,
    credit_limit,
    inbound_po_overdue,
    kitting_requirements,
)
from orderflow.workflow.machine import ChangeRecord, Explanation, Fired, Workflow, stage_deadline
from orderflow.workflow.mermaid import to_mermaid
from orderflow.workflow.spec import (
    definition_document,
    dump_definition,
    load_definition,
    parse_definition,
)
from orderflow.workflow.timeouts import DueWarning, WorkingCalendar, due_warnings

__all__ = [
    "BUILTIN_GUARDS",
    "DEFAULT_DEFINITION",
    "RETURN",
    "CapacitySchedule",
    "CapacitySlot",
    "ChangeRecord",
    "DueWarning",
    "Explanation",
    "Facts",
    "Fired",
    "Guard",
    "GuardRegistry",
    "GuardResult",
    "StageLabel",
    "Transition",
    "Workflow",
    "WorkflowDefinition",
    "WorkingCalendar",
    "bom_kitting",
    "capacity_slot",
    "credit_limit",
    "default_definition",
    "definition_document",
    "due_warnings",
    "dump_definition",
    "inbound_po_overdue",
    "kitting_requirements",
    "load_definition",
    "parse_definition",
    "stage_deadline",
    "to_mermaid",
]
