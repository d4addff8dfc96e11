"""Access scopes per factory and on-site checks (R10)."""

from __future__ import annotations

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from orderflow.exceptions import AccessDenied, InputError, OrderflowError
from orderflow.geo import (
    DEFAULT_POLICY,
    AccessPolicy,
    Action,
    Actor,
    CircleFence,
    Factory,
    LatLon,
    Membership,
    PolygonFence,
    Role,
    check,
    destination,
    readable,
    require_on_site,
)

R10_ZH = "您无权访问该区域订单，请联系区域管理员"
R10_EN = "You have no access to orders of this region; contact the regional administrator"

NB = Factory("NB-1", LatLon(29.8994, 121.8440))
SZ = Factory("SZ-1", LatLon(22.7209, 114.2468), fence=CircleFence(LatLon(22.7209, 114.2468), 800))


@attrs.frozen
class Record:
    """Stands in for an order (the domain model is written elsewhere)."""

    id: str
    factory_id: str


def test_user_of_factory_b_reading_factory_a_order_gets_the_r10_message() -> None:
    user_b = Actor("wang.fang", {"SZ-1": "manager"})
    with pytest.raises(AccessDenied) as info:
        check(user_b, "NB-1")
    error = info.value
    assert R10_ZH in str(error)
    assert R10_EN in str(error)
    assert (error.actor, error.factory_id, error.action) == ("wang.fang", "NB-1", "read")
    assert isinstance(error, OrderflowError)
    assert isinstance(error, PermissionError)


def test_changes_to_another_factory_are_refused_too() -> None:
    operator = Actor("li.wei", {"NB-1": Role.OPERATOR})
    check(operator, "NB-1", Action.CHANGE)
    with pytest.raises(AccessDenied, match=R10_ZH) as info:
        check(operator, "SZ-1", "change")
    assert info.value.action == "change"


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        ("viewer", {"read"}),
        ("operator", {"read", "change", "scan"}),
        ("manager", {"read", "change", "scan", "approve"}),
        ("admin", {"read", "change", "scan", "approve", "administer"}),
    ],
)
def test_default_policy_per_role(role: str, allowed: set[str]) -> None:
    actor = Actor("a", {"NB-1": role})
    for action in Action:
        if action.value in allowed:
            check(actor, "NB-1", action)
        else:
            with pytest.raises(AccessDenied) as info:
                check(actor, "NB-1", action)
            assert info.value.action == f"{action.value} (roles at NB-1: {role})"


def test_roles_accumulate_and_group_admin_sees_everything() -> None:
    actor = Actor("a", [Membership("NB-1", "viewer"), Membership("NB-1", "operator")])
    assert actor.roles_at("NB-1") == {Role.VIEWER, Role.OPERATOR}
    check(actor, "NB-1", "scan")
    boss = Actor("boss", group_admin=True)
    for fid in ("NB-1", "SZ-1", "anything"):
        for action in Action:
            check(boss, fid, action)


def test_readable_filters_to_the_actors_factories_in_order() -> None:
    records = [Record("o1", "NB-1"), Record("o2", "SZ-1"), Record("o3", "NB-1"), Record("o4", "X")]
    actor = Actor("a", {"NB-1": "viewer", "X": ["operator", "manager"]})
    assert [r.id for r in readable(actor, records)] == ["o1", "o3", "o4"]
    assert readable(Actor("nobody"), records) == []
    assert readable(Actor("boss", group_admin=True), records) == records


def test_readable_refuses_objects_without_a_factory() -> None:
    with pytest.raises(InputError, match="has no factory_id"):
        readable(Actor("a", {"NB-1": "viewer"}), [object()])  # type: ignore[type-var]


def test_bad_role_action_and_ids_are_input_errors() -> None:
    with pytest.raises(InputError, match="unknown role 'boss'; known: viewer, operator"):
        Actor("a", {"NB-1": "boss"})
    with pytest.raises(InputError, match="unknown action 'delete'"):
        check(Actor("a", {"NB-1": "admin"}), "NB-1", "delete")
    with pytest.raises(InputError, match="actor id"):
        Actor("")
    with pytest.raises(InputError, match="factory id"):
        Membership("", "viewer")
    with pytest.raises(InputError, match="needs an Actor"):
        check("li.wei", "NB-1")  # type: ignore[arg-type]


def test_custom_policy() -> None:
    policy = AccessPolicy({"viewer": ["read", "scan"]}, on_site=[])
    actor = Actor("a", {"NB-1": "viewer"})
    policy.check(actor, "NB-1", "scan")
    with pytest.raises(AccessDenied):
        policy.check(Actor("b", {"NB-1": "operator"}), "NB-1", "read")  # role not granted
    assert policy.actions_for("manager") == frozenset()
    assert DEFAULT_POLICY.actions_for("viewer") == {Action.READ}


def test_scan_inside_the_fence_is_allowed_outside_refused_with_distance() -> None:
    require_on_site(destination(NB.location, 200.0, 480.0), NB)
    outside = destination(NB.location, 200.0, 812.4)
    with pytest.raises(AccessDenied) as info:
        require_on_site(outside, NB, actor=Actor("li.wei", {"NB-1": "operator"}))
    error = info.value
    assert error.action == "scan (outside the factory geofence: 812 m from centre)"
    assert error.actor == "li.wei"
    assert error.factory_id == "NB-1"
    assert R10_ZH in str(error)


def test_on_site_tolerance_and_polygon_fences() -> None:
    edge = destination(NB.location, 0.0, 510.0)
    with pytest.raises(AccessDenied):
        require_on_site(edge, NB)
    require_on_site(edge, NB, tolerance_m=15.0)
    with pytest.raises(InputError, match="tolerance_m"):
        require_on_site(edge, NB, tolerance_m=-1.0)
    square = [destination(NB.location, b, 300.0) for b in (45, 135, 225, 315)]
    plant = Factory("NB-9", NB.location, fence=PolygonFence(square))
    require_on_site(destination(NB.location, 0.0, 200.0), plant)
    with pytest.raises(AccessDenied, match="250 m from centre"):
        require_on_site(destination(NB.location, 0.0, 250.0), plant)


def test_check_on_site_combines_role_and_position() -> None:
    operator = Actor("li.wei", {"NB-1": "operator"})
    inside = destination(NB.location, 10.0, 100.0)
    DEFAULT_POLICY.check_on_site(operator, NB, "scan", inside)
    with pytest.raises(AccessDenied, match="no GPS position"):
        DEFAULT_POLICY.check_on_site(operator, NB, "scan", None)
    with pytest.raises(AccessDenied, match="outside the factory geofence"):
        DEFAULT_POLICY.check_on_site(operator, NB, "scan", SZ.location)
    with pytest.raises(AccessDenied, match=R10_ZH):
        DEFAULT_POLICY.check_on_site(operator, SZ, "scan", SZ.location)
    # reading needs no position
    DEFAULT_POLICY.check_on_site(operator, NB, "read", None)


FIDS = ["NB-1", "NB-2", "SZ-1", "SZ-2", "SH-1"]
memberships = st.lists(
    st.builds(Membership, st.sampled_from(FIDS), st.sampled_from(list(Role))), max_size=6
)


@given(
    st.builds(Actor, st.just("actor"), memberships, st.booleans()),
    st.lists(st.builds(Record, st.text(max_size=3), st.sampled_from(FIDS)), max_size=30),
)
def test_no_actor_ever_reads_an_order_outside_its_scopes(
    actor: Actor, records: list[Record]
) -> None:
    visible = readable(actor, records)
    for record in visible:
        assert actor.group_admin or record.factory_id in actor.factory_ids
    for record in records:
        if actor.group_admin or record.factory_id in actor.factory_ids:
            check(actor, record.factory_id, "read")
            assert record in visible
        else:
            assert record not in visible
            with pytest.raises(AccessDenied, match=R10_ZH):
                check(actor, record.factory_id, "read")
            for action in Action:
                with pytest.raises(AccessDenied):
                    check(actor, record.factory_id, action)
