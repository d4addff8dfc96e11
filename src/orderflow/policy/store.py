"""A versioned policy holder that swaps a new policy in atomically at run time (R4)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import attrs

from orderflow.exceptions import PolicyError
from orderflow.policy.model import Policy

__all__ = ["PolicyStore"]


class PolicyStore:
    """Holds the current :class:`Policy`; readers never block, writers swap whole versions.

    Reading is one attribute load (atomic in CPython), so a reader sees either the old or
    the new policy, never a mix. ``swap`` requires the version to increase, so two admins
    editing at once cannot silently overwrite each other.
    """

    def __init__(self, initial: Policy | None = None) -> None:
        self._current = initial or Policy()
        self._lock = threading.Lock()
        self._history: list[Policy] = [self._current]
        self._listeners: list[Callable[[Policy, Policy], None]] = []

    @property
    def current(self) -> Policy:
        """The policy in force now."""
        return self._current

    def swap(self, new: Policy) -> Policy:
        """Put ``new`` in force; its version must be greater than the current one."""
        with self._lock:
            old = self._current
            if new.version <= old.version:
                raise PolicyError(
                    [
                        f"version: new policy version {new.version} must be greater than "
                        f"the current {old.version}"
                    ]
                )
            self._current = new
            self._history.append(new)
            listeners = list(self._listeners)
        for listener in listeners:
            listener(old, new)
        return old

    def update(self, **changes: Any) -> Policy:
        """Swap in a copy of the current policy with ``changes`` and the next version."""
        with self._lock:
            base = self._current
        new = attrs.evolve(base, version=base.version + 1, **changes)
        self.swap(new)
        return new

    def version(self, number: int) -> Policy:
        """A policy version that was in force earlier (for replay and audit)."""
        for policy in self._history:
            if policy.version == number:
                return policy
        raise PolicyError([f"version: no policy version {number} is known"])

    def subscribe(self, listener: Callable[[Policy, Policy], None]) -> None:
        """Call ``listener(old, new)`` after each swap (e.g. to write a policy_change entry)."""
        with self._lock:
            self._listeners.append(listener)
