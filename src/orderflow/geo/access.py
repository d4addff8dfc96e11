"""Access scopes: each factory is its own data space (R10).

An :class:`Actor` belongs to one or more factories, with one or more
:class:`Role` at each; a *group admin* sees every factory. An
:class:`AccessPolicy` says which :class:`Action` each role may take.
:meth:`AccessPolicy.check` raises
:class:`~orderflow.exceptions.AccessDenied` (whose message carries the R10
text "您无权访问该区域订单，请联系区域管理员" and its English version) for any
read or change outside the actor's scopes; :meth:`AccessPolicy.readable`
filters anything with a ``factory_id`` attribute down to what the actor may
read. :func:`require_on_site` refuses on-site operations (warehouse scans)
from a GPS position outside the factory's geofence.

This module works on factory ids only, so it applies to orders, stock
movements, audit entries or any other record that names its factory.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from typing import Any, Protocol, TypeVar

import attrs

from orderflow.exceptions import AccessDenied, InputError
from orderflow.geo.factory import Factory
from orderflow.geo.geodesy import LatLon

__all__ = [
    "DEFAULT_POLICY",
    "AccessPolicy",
    "Action",
    "Actor",
    "HasFactoryId",
    "Membership",
    "Role",
    "check",
    "readable",
    "require_on_site",
]


class Role(enum.StrEnum):
    """A role an actor holds at one factory."""

    VIEWER = "viewer"
    OPERATOR = "operator"
    MANAGER = "manager"
    ADMIN = "admin"


class Action(enum.StrEnum):
    """Something an actor may do with a factory's data."""

    READ = "read"
    CHANGE = "change"
    SCAN = "scan"
    APPROVE = "approve"
    ADMINISTER = "administer"


def _enum_value(cls: type[Role] | type[Action], value: Any) -> Any:
    try:
        return cls(value)
    except ValueError:
        known = ", ".join(m.value for m in cls)
        raise InputError(f"unknown {cls.__name__.lower()} {value!r}; known: {known}") from None


def _role(value: Any) -> Role:
    result: Role = _enum_value(Role, value)
    return result


def _action(value: Any) -> Action:
    result: Action = _enum_value(Action, value)
    return result


def _factory_id(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InputError(f"a factory id must be a non-empty string, got {value!r}")
    return value.strip()


@attrs.frozen(order=True)
class Membership:
    """``role`` held by an actor at factory ``factory_id``."""

    factory_id: str = attrs.field(converter=_factory_id)
    role: Role = attrs.field(converter=_role)


def _memberships(value: Any) -> tuple[Membership, ...]:
    items: Iterable[Any]
    if isinstance(value, Mapping):
        pairs: list[Membership] = []
        for fid, roles in value.items():
            role_list = [roles] if isinstance(roles, str | Role) else list(roles)
            pairs.extend(Membership(fid, r) for r in role_list)
        items = pairs
    else:
        items = value
    result = set()
    for m in items:
        if not isinstance(m, Membership):
            raise InputError(f"memberships must be Membership objects, got {m!r}")
        result.add(m)
    return tuple(sorted(result))


def _actor_id(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InputError(f"an actor id must be a non-empty string, got {value!r}")
    return value.strip()


@attrs.frozen
class Actor:
    """A person or device acting on orders, with roles per factory.

    ``memberships`` may be given as :class:`Membership` objects or as a
    mapping ``{factory_id: role or [roles]}``, e.g.
    ``Actor("li.wei", {"NB-1": "operator", "SZ-1": ["viewer"]})``.
    ``group_admin=True`` grants every action at every factory.
    """

    id: str = attrs.field(converter=_actor_id)
    memberships: tuple[Membership, ...] = attrs.field(default=(), converter=_memberships)
    group_admin: bool = False

    @property
    def factory_ids(self) -> frozenset[str]:
        """Factories the actor belongs to (empty for a group admin with no memberships)."""
        return frozenset(m.factory_id for m in self.memberships)

    def roles_at(self, factory_id: str) -> frozenset[Role]:
        """The actor's roles at ``factory_id`` (empty if not a member)."""
        return frozenset(m.role for m in self.memberships if m.factory_id == factory_id)


def _grants(value: Any) -> tuple[tuple[Role, frozenset[Action]], ...]:
    if not isinstance(value, Mapping):
        raise InputError(f"grants must map roles to actions, got {value!r}")
    table = {_role(r): _actions(actions) for r, actions in value.items()}
    return tuple(sorted(table.items()))


def _actions(value: Iterable[Any]) -> frozenset[Action]:
    return frozenset(_action(a) for a in value)


class HasFactoryId(Protocol):
    """Anything that names the factory owning it (orders, stock moves, audit entries...)."""

    @property
    def factory_id(self) -> str:
        """Id of the owning factory."""
        ...


T = TypeVar("T", bound=HasFactoryId)


@attrs.frozen
class AccessPolicy:
    """Which actions each role may take, and which actions must happen on site.

    ``grants`` maps a :class:`Role` (or its name) to the actions it allows.
    ``on_site`` lists actions that also need the actor's GPS fix inside the
    factory geofence when checked with :meth:`check_on_site`.
    """

    grants: tuple[tuple[Role, frozenset[Action]], ...] = attrs.field(converter=_grants)
    on_site: frozenset[Action] = attrs.field(default=frozenset({Action.SCAN}), converter=_actions)

    def actions_for(self, role: Role | str) -> frozenset[Action]:
        """The actions ``role`` allows (empty if the policy does not mention it)."""
        wanted = _role(role)
        for r, actions in self.grants:
            if r == wanted:
                return actions
        return frozenset()

    def allows(self, actor: Actor, factory_id: str, action: Action | str) -> bool:
        """True if ``actor`` may take ``action`` on data of ``factory_id``."""
        wanted = _action(action)
        if actor.group_admin:
            return True
        return any(wanted in self.actions_for(r) for r in actor.roles_at(factory_id))

    def check(self, actor: Actor, factory_id: str, action: Action | str = Action.READ) -> None:
        """Raise :class:`~orderflow.exceptions.AccessDenied` unless :meth:`allows`.

        The error's ``action`` is the plain action for a non-member (the R10
        case); for a member whose roles do not allow it, the roles are named
        too, e.g. ``"approve (roles at NB-1: viewer)"``.
        """
        if not isinstance(actor, Actor):
            raise InputError(f"check() needs an Actor, got {actor!r}")
        wanted = _action(action)
        if self.allows(actor, factory_id, wanted):
            return
        roles = actor.roles_at(factory_id)
        if not roles:
            raise AccessDenied(actor.id, factory_id, wanted.value)
        held = ", ".join(sorted(r.value for r in roles))
        raise AccessDenied(actor.id, factory_id, f"{wanted.value} (roles at {factory_id}: {held})")

    def readable(self, actor: Actor, items: Iterable[T]) -> list[T]:
        """The items whose ``factory_id`` the actor may read, in their original order.

        An item without a ``factory_id`` raises
        :class:`~orderflow.exceptions.InputError`: data that names no factory
        is never shown by default.
        """
        allowed: dict[str, bool] = {}
        result: list[T] = []
        for item in items:
            fid = getattr(item, "factory_id", None)
            if not isinstance(fid, str):
                raise InputError(f"{item!r} has no factory_id; cannot decide who may read it")
            ok = allowed.get(fid)
            if ok is None:
                ok = allowed[fid] = self.allows(actor, fid, Action.READ)
            if ok:
                result.append(item)
        return result

    def check_on_site(
        self,
        actor: Actor,
        factory: Factory,
        action: Action | str,
        position: LatLon | None,
        *,
        tolerance_m: float = 0.0,
    ) -> None:
        """:meth:`check`, then :func:`require_on_site` if ``action`` is an on-site action.

        A missing ``position`` for an on-site action is refused.
        """
        wanted = _action(action)
        self.check(actor, factory.id, wanted)
        if wanted in self.on_site:
            if position is None:
                raise AccessDenied(actor.id, factory.id, f"{wanted.value} (no GPS position given)")
            require_on_site(position, factory, actor=actor, action=wanted, tolerance_m=tolerance_m)


#: viewer: read; operator: read, change, scan; manager: + approve; admin: everything.
DEFAULT_POLICY = AccessPolicy(
    {
        Role.VIEWER: {Action.READ},
        Role.OPERATOR: {Action.READ, Action.CHANGE, Action.SCAN},
        Role.MANAGER: {Action.READ, Action.CHANGE, Action.SCAN, Action.APPROVE},
        Role.ADMIN: set(Action),
    }
)


def check(actor: Actor, factory_id: str, action: Action | str = Action.READ) -> None:
    """:meth:`AccessPolicy.check` with :data:`DEFAULT_POLICY`."""
    DEFAULT_POLICY.check(actor, factory_id, action)


def readable(actor: Actor, items: Iterable[T]) -> list[T]:
    """:meth:`AccessPolicy.readable` with :data:`DEFAULT_POLICY`."""
    return DEFAULT_POLICY.readable(actor, items)


def require_on_site(
    actor_position: LatLon,
    factory: Factory,
    *,
    actor: Actor | str = "unidentified",
    action: Action | str = Action.SCAN,
    tolerance_m: float = 0.0,
) -> None:
    """Refuse an on-site operation from outside the factory geofence.

    Raises :class:`~orderflow.exceptions.AccessDenied` with action
    ``"scan (outside the factory geofence: N m from centre)"``, N being the
    distance in metres from the fence centre (the factory location for the
    default circle), when ``actor_position`` is more than
    ``tolerance_m`` metres outside ``factory.fence``. ``tolerance_m`` (default
    0) can absorb a known GPS error; it must not be negative.
    """
    if not isinstance(actor_position, LatLon):
        raise InputError(f"actor_position must be a LatLon, got {actor_position!r}")
    if not isinstance(factory, Factory):
        raise InputError(f"factory must be a Factory, got {factory!r}")
    if not tolerance_m >= 0:
        raise InputError(f"tolerance_m must be a number of metres >= 0, got {tolerance_m!r}")
    if factory.fence.distance_outside_m(actor_position) <= tolerance_m:
        return
    from_centre = round(factory.fence.distance_from_centre_m(actor_position))
    actor_id = actor.id if isinstance(actor, Actor) else str(actor)
    raise AccessDenied(
        actor_id,
        factory.id,
        f"{_action(action).value} (outside the factory geofence: {from_centre} m from centre)",
    )
