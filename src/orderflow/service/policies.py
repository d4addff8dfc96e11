"""Policy use cases: the policy in force is stored, and every change is audited (R4, R5)."""

from __future__ import annotations

import json

import attrs

from orderflow.audit import EntryType
from orderflow.clock import to_micros
from orderflow.geo.access import Actor
from orderflow.policy import Policy, parse_policy, policy_document
from orderflow.service.runtime import ActorLike, Runtime

__all__ = ["POLICY_CHAIN", "change_policy", "load_stored_policy"]

POLICY_CHAIN = "policy"
"""The audit chain of policy changes."""


def load_stored_policy(rt: Runtime) -> None:
    """Put the stored policy in force if it is newer than the one the service started with."""
    with rt.store.transaction() as tx:
        body = tx.get_doc("policy", "current")
    if body is not None:
        stored = parse_policy(json.loads(body))
        if stored.version > rt.policies.current.version:
            rt.policies.swap(stored)


def change_policy(rt: Runtime, new: Policy, *, actor: ActorLike) -> Policy:
    """Put a new policy version in force now and audit every changed parameter."""
    who = rt.who(actor, "", "administer" if isinstance(actor, Actor) else "change")
    old = rt.policy
    if new.version <= old.version:
        new = attrs.evolve(new, version=old.version + 1)
    old_doc, new_doc = policy_document(old), policy_document(new)
    diff = {
        k: (json.dumps(old_doc[k], sort_keys=True), json.dumps(new_doc[k], sort_keys=True))
        for k in new_doc
        if old_doc.get(k) != new_doc[k]
    }
    with rt.store.transaction() as tx:
        rt.append(tx, POLICY_CHAIN, EntryType.POLICY_CHANGE, actor=who,
                  at_us=to_micros(rt.now()), changes=diff,
                  context={"version": str(new.version)})  # fmt: skip
        tx.put_doc("policy", "current", json.dumps(new_doc, sort_keys=True))
        rt.policies.swap(new)
    rt.committed()
    return new
