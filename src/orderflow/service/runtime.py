"""What every use case runs on: the store (the unit of work), clock, policy, workflow, access.

The use cases (:mod:`~orderflow.service.orders`, :mod:`~orderflow.service.stock_ops`,
:mod:`~orderflow.service.incident_ops`, :mod:`~orderflow.service.policies`, ...) are plain
functions over one :class:`Runtime`; :class:`~orderflow.service.OrderService` is a thin
facade that holds one. The runtime owns the three things every write shares: who the
actor is (R10 scopes), how an audit entry is appended to a chain (R5), and running an
operation at most once per idempotency key, with its result kept through the converter.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from orderflow.audit import AuditEntry, EntryType, encode, leaf_hash, next_entry
from orderflow.clock import Clock, SystemClock, as_utc, local_day, to_micros
from orderflow.domain import Order
from orderflow.exceptions import IdempotencyConflict, InputError, NotFound, StoreError
from orderflow.geo.access import DEFAULT_POLICY, AccessPolicy, Actor
from orderflow.geo.geocoder import Geocoder
from orderflow.geo.router import Router
from orderflow.policy import Policy, PolicyStore
from orderflow.ports import Store, StoreTx
from orderflow.risk.drawings import index_drawing_change
from orderflow.risk.sources import RiskSources
from orderflow.service import outbox
from orderflow.service.boundary import actor_key
from orderflow.service.checkpoints import Checkpointer
from orderflow.service.codec import decoded_chain, fingerprint, replay_entries
from orderflow.service.effects import DEFAULT_EFFECTS, EFFECT_LOCKS, Effect
from orderflow.service.facts import StoreFacts
from orderflow.service.results import decode_result, encode_result
from orderflow.workflow import Workflow

__all__ = ["ActorLike", "Runtime"]

_NO_LOCKS: frozenset[str] = frozenset()

T = TypeVar("T")
ActorLike = str | Actor
"""A user id, or an :class:`~orderflow.geo.Actor` whose factory scopes are checked."""


class Runtime:
    """The dependencies and shared rules of the use cases (one per service)."""

    def __init__(
        self,
        store: Store,
        *,
        workflow: Workflow | None,
        clock: Clock | None,
        policies: PolicyStore | None,
        access: AccessPolicy = DEFAULT_POLICY,
        number_prefix: str = "HY",
        effects: Mapping[str, Effect] = DEFAULT_EFFECTS,
        router: Router | None = None,
        geocoder: Geocoder | None = None,
        events: bool = True,
    ) -> None:
        self.store = store
        self.events = events
        """Write each entry's event to the outbox (off only for runs nobody listens to)."""
        self.clock = clock or SystemClock()
        self.policies = policies or (workflow.policies if workflow else PolicyStore())
        self.workflow = workflow or Workflow(policy=self.policies)
        self.access = access
        self.number_prefix = number_prefix
        self.effects = dict(effects)
        self.locks = {event: EFFECT_LOCKS.get(fn, _NO_LOCKS) for event, fn in effects.items()}
        """event -> what its effect reads for update (gathered with the facts)"""
        self.router = router
        self.geocoder = geocoder
        self.facts = StoreFacts()
        self.needs = {
            (s, t.event): self.facts.needs(t.guards)
            for t in self.workflow.definition.transitions
            for s in t.source
        }
        self.checkpointer = Checkpointer(store)
        # the last instant local_date answered, its local day's span (micros), zone, date
        self._local: tuple[dt.datetime | None, int, int, str, dt.date] = (
            None, 0, 0, "", dt.date.min,
        )  # fmt: skip
        self.risk = RiskSources(store)
        """Where the delivery-risk rules read their inputs (R13); replaceable."""

    @property
    def policy(self) -> Policy:
        """The policy in force."""
        return self.policies.current

    def local_date(self, instant: dt.datetime) -> dt.date:
        """The calendar date of ``instant`` in the factory time zone of the policy."""
        timezone = self.policy.timezone
        last, start, end, zone, day = self._local
        if zone == timezone and last == instant:  # an operation asks several times
            return day
        us = to_micros(instant)
        if zone != timezone or not start <= us < end:  # not the same day (a replay's case)
            day, start, end = local_day(us, zoneinfo.ZoneInfo(timezone))  # zoneinfo caches
        self._local = (instant, start, end, timezone, day)
        return day

    def now(self) -> dt.datetime:
        """The clock's instant as a plain stdlib UTC datetime."""
        return as_utc(self.clock.now())

    def who(self, actor: ActorLike, factory_id: str, action: str) -> str:
        """The actor's id, after checking an :class:`Actor`'s scope for ``action`` (R10)."""
        if isinstance(actor, Actor):
            self.access.check(actor, factory_id, action)
            return actor.id
        if not isinstance(actor, str) or not actor.strip():
            raise InputError("actor must be a user id or an Actor")
        return actor

    def load(self, tx: StoreTx, order_id: str, *, for_update: bool = False) -> Order:
        """The stored order, or :class:`~orderflow.NotFound`."""
        order = tx.get_order(order_id, for_update=for_update)
        if order is None:
            raise NotFound("order", order_id)
        return order

    def append(
        self,
        tx: StoreTx,
        chain: str,
        kind: EntryType,
        *,
        actor: str,
        at_us: int,
        from_state: str | None = None,
        to_state: str | None = None,
        changes: Mapping[str, tuple[Any, Any]] | None = None,
        context: Mapping[str, str] | None = None,
        key: str | None = None,
        expect_seq: int | None = None,
        link_token: str | None = None,
    ) -> AuditEntry:
        """Append the next entry of ``chain`` in ``tx`` (R5), and its outbox event.

        ``expect_seq`` is the stored order's version: a chain that ends elsewhere was
        changed outside orderflow, and nothing is written. ``link_token`` (a new order's
        query token) rides on the ``order.submitted`` event only.
        """
        head = tx.chain_head(chain)
        if expect_seq is not None and (head.seq if head else -1) != expect_seq:
            raise StoreError(
                f"audit chain of {chain} ends at seq {head.seq if head else None} but the "
                f"stored order is at version {expect_seq}: the store was changed outside "
                "orderflow; run 'orderflow audit verify'"
            )
        entry = next_entry(
            head,
            origin=self.store.origin,
            order_id=chain,
            type=kind,
            actor=actor,
            at=at_us,
            from_state=from_state,
            to_state=to_state,
            changes=changes or (),
            context=context,
            idempotency_key=key,
        )
        data = encode(entry)
        tx.append_audit(chain, entry.seq, data, leaf_hash(data))
        if kind is EntryType.EXCEPTION or kind is EntryType.FIELD_UPDATE:
            index_drawing_change(tx, entry)  # the R13 index commits with the entry
        if self.events:
            outbox.write_entry(tx, entry, link_token=link_token)
        self.checkpointer.appended += 1
        return entry

    def once(
        self,
        key: str | None,
        op: str,
        args: Mapping[str, Any],
        body: Callable[[StoreTx], T],
        result_type: type[T],
        *,
        actor: ActorLike | None = None,
        lock_order: str | None = None,
        checks_ahead: bool = False,
    ) -> T:
        """Run ``body`` in one transaction, at most once per idempotency ``key``.

        ``lock_order``: the order ``body`` loads for update first; a store with a server
        locks it while it looks the key up (one round trip instead of two). Inside a
        caller's transaction, a store with a server may look the key up while ``body``
        runs (in a savepoint, rolled back if the key was taken). ``checks_ahead``: ``body``
        asks the store a question it may answer later (is a new order's number free?):
        in a transaction of its own, ``body`` runs in a savepoint too, before whose end the
        store reads the answer.

        A retry with the same key, arguments and ``actor`` returns the stored result
        (read back through the converter, equal to the first); other arguments, or
        another actor, under the same key are :class:`~orderflow.IdempotencyConflict`:
        a replay never hands one actor what another was given.
        """
        # in a caller's batch this call is a savepoint; in a transaction of its own, a body
        # with checks_ahead runs in one: either way a store with a server may send its
        # check ahead and read the answer when the savepoint ends (the round trip overlaps
        # the call's work)
        nested = self.store.in_transaction()
        own_savepoint = checks_ahead and not nested
        if key is None:
            with self.store.transaction() as tx:
                result = _in_savepoint(tx, body) if own_savepoint else body(tx)
            self.committed()
            return result
        print_ = fingerprint(op, args)
        if actor is not None:
            print_ += "|by:" + actor_key(actor)
        try:
            with self.store.transaction() as tx:
                # and in a caller's batch, the key's lookup may overlap the work too
                answer = tx.ask_idempotent(key, lock_order=lock_order) if nested else None
                if answer is None:
                    stored = tx.get_idempotent(key, lock_order=lock_order)
                    if stored is not None:
                        return self._replayed(tx, key, print_, stored, result_type)
                    result = _in_savepoint(tx, body) if own_savepoint else body(tx)
                else:
                    result = _ahead(tx, answer, body)
                tx.put_idempotent(key, print_, encode_result(result))
        except _Replay as replay:  # the key was taken after all: the run ahead is undone
            with self.store.transaction() as tx:
                return self._replayed(tx, key, print_, replay.stored, result_type)
        self.committed()
        return result

    def _replayed(
        self, tx: StoreTx, key: str, print_: str, stored: tuple[str, str], result_type: type[T]
    ) -> T:
        """The stored result of a retried call (or the conflict of a reused key)."""
        if stored[0] != print_:
            raise IdempotencyConflict(key)
        return decode_result(stored[1], result_type, lambda oid, v: self.order_at(tx, oid, v))

    def order_at(self, tx: StoreTx, order_id: str, version: int) -> Order:
        """The order as it was at ``version``: the stored order when nothing changed it
        since (a retry's usual case), else its audit chain replayed up to that version."""
        current = self.load(tx, order_id)
        if current.version == version:
            return current
        entries = [
            e for e in decoded_chain(self.store.audit_chain(order_id)) if e[1].seq <= version
        ]
        if not entries or entries[-1][1].seq != version:
            # PostgreSQL: another connection cannot see this transaction's entries yet
            raise StoreError(
                f"order {current.number} moved on inside this transaction after the call "
                "this idempotency key answers; retry it after the transaction commits"
            )
        return replay_entries(order_id, entries)

    def committed(self) -> None:
        """Called after an operation committed: keep the log anchored (stored checkpoints)."""
        if not self.checkpointer.appended or self.store.in_transaction():
            return  # nothing new, or inside a caller's batch: its commit is not ours to see
        policy = self.policy
        self.checkpointer.maybe(
            self.clock.now(),
            every_entries=policy.checkpoint_every_entries,
            every_seconds=policy.checkpoint_every_seconds,
        )


def _in_savepoint(tx: StoreTx, body: Callable[[StoreTx], T]) -> T:
    """``body`` in a savepoint of ``tx``."""
    with tx.savepoint():
        return body(tx)


def _ahead(
    tx: StoreTx, answer: Callable[[], tuple[str, str] | None], body: Callable[[StoreTx], T]
) -> T:
    """Run ``body`` while the store's answer to the key lookup is on its way; a key that
    turns out to be taken raises :class:`_Replay` (its savepoint rolls the run back)."""
    try:
        result = body(tx)
    except Exception:
        # a retry of a call that was refused, or whose order moved on since: the stored
        # answer wins over what this run made of it
        stored = _quietly(answer)
        if stored is not None:
            raise _Replay(stored) from None
        raise
    stored = answer()
    if stored is not None:
        raise _Replay(stored)
    return result


class _Replay(Exception):
    """A key found taken after the call ran ahead of its lookup: roll the call back."""

    def __init__(self, stored: tuple[str, str]) -> None:
        super().__init__("idempotency key already used")
        self.stored = stored


def _quietly(answer: Callable[[], tuple[str, str] | None]) -> tuple[str, str] | None:
    """The answer, or ``None`` when reading it fails too (the first error is the one to
    report)."""
    try:
        return answer()
    except Exception:
        return None
