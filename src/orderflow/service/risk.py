"""Delivery-risk flags on demand (R13): the rules evaluated now for a stored order.

For an open order whose circumstances changed (the exchange rate moved, a typhoon
season began, the customer changed drawings again). Staff only: the actor's factory
scope is checked like any read; customers never see flags.
"""

from __future__ import annotations

from orderflow.audit import decode
from orderflow.clock import to_micros
from orderflow.risk.flags import RiskFlag
from orderflow.service.runtime import ActorLike, Runtime

__all__ = ["risk_flags"]

_FACTS = frozenset({"products", "components"})


def risk_flags(rt: Runtime, order_id: str, *, actor: ActorLike) -> tuple[RiskFlag, ...]:
    """The rules' flags for ``order_id`` as of now (the drawing index is refreshed first)."""
    policy = rt.policy
    with rt.store.transaction() as tx:
        order = rt.load(tx, order_id)
        rt.who(actor, order.factory_id, "read")
        if not policy.risk.enabled:
            return ()
        now = rt.now()
        today = rt.local_date(now)
        facts = rt.facts.gather(tx, order, today, _FACTS)
        chain = rt.store.audit_chain(order.id)
        created = decode(chain[0][1]).context_map if chain else {}
        carrier = created.get("risk.carrier") or created.get("carrier")
        inputs = rt.risk.inputs(tx, order, products=facts.products, components=facts.components,
                                limits=policy.risk, now_us=to_micros(now), today=today,
                                carrier=carrier, fresh=True)  # fmt: skip
    return rt.risk.evaluate(inputs, policy.risk)
