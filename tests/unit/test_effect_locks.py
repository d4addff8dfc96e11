"""The locks the built-in effects declare are lock groups the facts know, and a custom
effect (which declares nothing) gets none."""

from __future__ import annotations

from orderflow.adapters.memory import MemoryStore
from orderflow.service import DEFAULT_EFFECTS, EffectContext, OrderService
from orderflow.service.effects import EFFECT_LOCKS
from orderflow.service.facts import LOCK_GROUPS


def test_every_declared_lock_is_a_known_group_of_a_built_in_effect() -> None:
    assert set(EFFECT_LOCKS) <= set(DEFAULT_EFFECTS.values())
    for groups in EFFECT_LOCKS.values():
        assert groups
        assert groups <= set(LOCK_GROUPS)


def test_the_runtime_maps_each_event_to_its_effects_locks() -> None:
    def custom(ctx: EffectContext) -> None:
        DEFAULT_EFFECTS["dispatch_production"](ctx)

    svc = OrderService(MemoryStore(), effects={**DEFAULT_EFFECTS, "dispatch_production": custom})
    locks = svc.runtime.locks
    assert locks["lock_kitting"] == frozenset({"stock", "exposure"})
    assert locks["deliver"] == frozenset({"exposure", "streak"})
    assert locks["dispatch_production"] == frozenset()  # a custom effect declares nothing
