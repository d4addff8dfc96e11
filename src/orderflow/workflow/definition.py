"""A workflow definition as plain data, checked when built (R3).

The default definition is the seed's five mandatory stages plus rework, cancellation and
hold/resume. A definition is validated as a whole and every problem is reported at once:
unknown stages or guards, unreachable stages, dead ends, duplicate events, and any
transition that would let an order skip a mandatory stage.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType

import attrs

from orderflow.exceptions import DefinitionError

__all__ = [
    "DEFAULT_DEFINITION",
    "RETURN",
    "Transition",
    "WorkflowDefinition",
    "default_definition",
]

RETURN = "@return"
"""Target of a transition that goes back to the stage the order was held from."""


def _strings(value: Iterable[str]) -> tuple[str, ...]:
    return tuple(value)


@attrs.frozen
class StageLabel:
    """How a stage is named to people: zh-CN first, then English (customer page, slip,
    report)."""

    zh: str
    en: str

    def __str__(self) -> str:
        return f"{self.zh} {self.en}" if self.zh != self.en else self.zh


def _labels(value: Mapping[str, StageLabel | tuple[str, str]]) -> Mapping[str, StageLabel]:
    return MappingProxyType(
        {k: v if isinstance(v, StageLabel) else StageLabel(*v) for k, v in value.items()}
    )


def _transitions(value: Iterable[Transition]) -> tuple[Transition, ...]:
    return tuple(value)


@attrs.frozen
class Transition:
    """An event that moves an order from any of ``source`` to ``target``.

    ``guards`` are names resolved through a guard registry; ``requires_reason`` makes the
    event refuse to fire without a written reason (rework, cancellation, hold).
    """

    event: str
    source: tuple[str, ...] = attrs.field(converter=_strings)
    target: str
    guards: tuple[str, ...] = attrs.field(default=(), converter=_strings)
    requires_reason: bool = False
    description: str = ""


@attrs.frozen
class WorkflowDefinition:
    """The stages and transitions of a workflow.

    ``mainline`` lists the mandatory stages in order: an order can only ever enter the
    mainline stage right after the furthest one it has reached (or go back, for rework).
    """

    name: str
    stages: tuple[str, ...] = attrs.field(converter=_strings)
    mainline: tuple[str, ...] = attrs.field(converter=_strings)
    initial: str
    terminal: tuple[str, ...] = attrs.field(converter=_strings)
    transitions: tuple[Transition, ...] = attrs.field(converter=_transitions)
    labels: Mapping[str, StageLabel] = attrs.field(factory=dict, converter=_labels, hash=False)
    """Bilingual names of the stages; a stage without one is shown by its code."""

    def label(self, stage: str) -> StageLabel:
        """The stage's :class:`StageLabel` (its code in both languages if it has none)."""
        found = self.labels.get(stage)
        return found if found is not None else StageLabel(stage, stage)

    def label_table(self) -> dict[str, StageLabel]:
        """Every stage's label, in definition order: the one table pages and reports use."""
        return {s: self.label(s) for s in self.stages}

    def outgoing(self, stage: str) -> tuple[Transition, ...]:
        """The transitions that may fire from ``stage``."""
        return tuple(t for t in self.transitions if stage in t.source)

    def events(self) -> tuple[str, ...]:
        """Every event name, in definition order without repeats."""
        return tuple(dict.fromkeys(t.event for t in self.transitions))

    def holding_stages(self) -> frozenset[str]:
        """Stages left by a :data:`RETURN` transition (the order remembers where it was)."""
        return frozenset(s for t in self.transitions if t.target == RETURN for s in t.source)

    def check(self, known_guards: Iterable[str] | None = None) -> None:
        """Raise :class:`~orderflow.DefinitionError` listing every problem found."""
        problems = _problems(self, None if known_guards is None else set(known_guards))
        if problems:
            raise DefinitionError(problems)


def _problems(d: WorkflowDefinition, known_guards: set[str] | None) -> list[str]:
    out: list[str] = []
    stages = set(d.stages)
    if len(stages) != len(d.stages):
        out.append("stages: a stage is listed twice")
    if not d.mainline:
        out.append("mainline: at least one mandatory stage is needed")
    out.extend(f"labels: unknown stage {s!r}" for s in d.labels if s not in stages)
    for where, names in (("mainline", d.mainline), ("terminal", d.terminal)):
        out.extend(f"{where}: unknown stage {s!r}" for s in names if s not in stages)
    if len(set(d.mainline)) != len(d.mainline):
        out.append("mainline: a stage is listed twice")
    if d.initial not in stages:
        out.append(f"initial: unknown stage {d.initial!r}")
    elif d.mainline and d.initial != d.mainline[0]:
        out.append(f"initial: must be the first mainline stage {d.mainline[0]!r}")
    seen: dict[tuple[str, str], int] = {}
    holding = d.holding_stages()
    for i, t in enumerate(d.transitions):
        at = f"transitions[{i}] ({t.event})"
        if not t.event:
            out.append(f"{at}: event name is empty")
        if not t.source:
            out.append(f"{at}: no source stage")
        out.extend(f"{at}: unknown source stage {s!r}" for s in t.source if s not in stages)
        if t.target != RETURN and t.target not in stages:
            out.append(f"{at}: unknown target stage {t.target!r}")
        if t.target == RETURN:
            out.extend(
                f"{at}: {RETURN} may not leave mainline stage {s!r}"
                for s in t.source
                if s in d.mainline
            )
        if known_guards is not None:
            out.extend(f"{at}: unknown guard {g!r}" for g in t.guards if g not in known_guards)
        for s in t.source:
            if s in d.terminal:
                out.append(f"{at}: terminal stage {s!r} cannot have outgoing transitions")
            if (s, t.event) in seen:
                out.append(f"{at}: event {t.event!r} is defined twice from stage {s!r}")
            seen[(s, t.event)] = i
    if out:
        return out
    out.extend(_reachability(d, holding))
    out.extend(_skips(d))
    return out


def _reachability(d: WorkflowDefinition, holding: frozenset[str]) -> list[str]:
    out: list[str] = []
    reached = {d.initial}
    frontier = [d.initial]
    while frontier:
        stage = frontier.pop()
        for t in d.outgoing(stage):
            if t.target != RETURN and t.target not in reached:
                reached.add(t.target)
                frontier.append(t.target)
    out.extend(
        f"stage {s!r} is unreachable from {d.initial!r}" for s in d.stages if s not in reached
    )
    out.extend(
        f"stage {s!r} is a dead end: not terminal and no transition leaves it"
        for s in d.stages
        if s not in d.terminal and not d.outgoing(s)
    )
    for a, b in zip(d.mainline, d.mainline[1:], strict=False):
        if not any(t.target == b for t in d.outgoing(a)):
            out.append(f"mainline: no transition from {a!r} to the next stage {b!r}")
    return out


def _skips(d: WorkflowDefinition) -> list[str]:
    """Every edge into mainline stage j must come from mainline stage >= j - 1.

    Side stages (hold, rework, ...) inherit the mainline positions they can be entered
    from; leaving one to mainline stage j is a skip if it can be entered from before j - 1.
    """
    index = {s: i for i, s in enumerate(d.mainline)}
    entry: dict[str, set[int]] = {s: {i} for s, i in index.items()}
    changed = True
    while changed:
        changed = False
        for t in d.transitions:
            if t.target == RETURN or t.target in index:
                continue
            into = entry.setdefault(t.target, set())
            before = len(into)
            for s in t.source:
                into |= entry.get(s, set())
            changed |= len(into) != before
    out = []
    for t in d.transitions:
        j = index.get(t.target)
        if j is None:
            continue
        for s in t.source:
            lowest = min(entry.get(s, {j}), default=j)
            if lowest < j - 1:
                skipped = d.mainline[lowest + 1]
                out.append(
                    f"event {t.event!r} from {s!r} to {t.target!r} would skip mandatory "
                    f"stage {skipped!r}"
                )
    return out


_ACTIVE = ("pending_review", "kitting_locked", "production_dispatched", "qc_released")


def default_definition() -> WorkflowDefinition:
    """The seed's workflow: five mandatory stages, rework, cancellation, hold/resume."""
    return WorkflowDefinition(
        name="orderflow-default",
        stages=(*_ACTIVE, "delivered", "cancelled", "on_hold"),
        mainline=(*_ACTIVE, "delivered"),
        initial="pending_review",
        terminal=("delivered", "cancelled"),
        transitions=(
            Transition(
                "lock_kitting",
                ("pending_review",),
                "kitting_locked",
                ("credit_limit", "bom_kitting", "inbound_po_overdue"),
                description="review passed; components reserved for the order",
            ),
            Transition(
                "dispatch_production",
                ("kitting_locked",),
                "production_dispatched",
                ("capacity_slot",),
                description="released to a production line",
            ),
            Transition(
                "release_qc",
                ("production_dispatched",),
                "qc_released",
                description="quality control passed",
            ),
            Transition(
                "deliver",
                ("qc_released",),
                "delivered",
                description="logistics signed for the goods",
            ),
            Transition(
                "fail_qc",
                ("qc_released",),
                "production_dispatched",
                requires_reason=True,
                description="QC failure: back to production for rework",
            ),
            Transition(
                "cancel",
                ("pending_review", "kitting_locked"),
                "cancelled",
                requires_reason=True,
                description="cancelled before production",
            ),
            Transition("hold", _ACTIVE, "on_hold", requires_reason=True, description="put on hold"),
            Transition("resume", ("on_hold",), RETURN, description="back to the held stage"),
        ),
        labels={
            "pending_review": ("待审核", "Pending review"),
            "kitting_locked": ("齐套锁定", "Kitting locked"),
            "production_dispatched": ("生产中", "In production"),
            "qc_released": ("质检放行", "QC released"),
            "delivered": ("已签收", "Delivered"),
            "cancelled": ("已取消", "Cancelled"),
            "on_hold": ("暂停", "On hold"),
        },
    )


DEFAULT_DEFINITION = default_definition()
