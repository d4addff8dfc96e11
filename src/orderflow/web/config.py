"""What a deployment sets: staff users, the session key, rate limits, public links."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import attrs

from orderflow.exceptions import InputError
from orderflow.web.auth import StaffUser

__all__ = ["WebConfig"]


def _users(value: Any) -> Mapping[str, StaffUser]:
    if isinstance(value, Mapping):
        return MappingProxyType(dict(value))
    return MappingProxyType({u.id: u for u in value})


def _key(value: bytes) -> bytes:
    if len(value) < 32:
        raise InputError("the session key needs at least 32 bytes (e.g. secrets.token_bytes(32))")
    return value


@attrs.frozen
class WebConfig:
    """Settings of :func:`~orderflow.web.create_app`.

    ``session_key`` signs staff session cookies (random per process by default, so a
    restart logs everyone out; give a fixed one to share sessions across workers).
    Rate limits use the ``limits`` notation (``"30/minute"``), counted per client address.
    ``public_url`` (``https://status.plant.example``) prefixes links printed on slips; empty
    means the address the request came in on. ``secure_cookies`` marks cookies HTTPS-only
    (set it behind TLS). ``customer_bundle`` offers the order's audit evidence bundle on
    the customer page: off by default, because stored audit entries name staff, prices and
    check results (internal fields the customer page must not show).
    """

    users: Mapping[str, StaffUser] = attrs.field(factory=dict, converter=_users)
    session_key: bytes = attrs.field(
        factory=lambda: secrets.token_bytes(32), converter=_key, repr=False
    )
    session_hours: float = 8.0
    customer_rate: str = "60/minute"
    slip_rate: str = "30/minute"
    login_rate: str = "10/minute"
    public_url: str = ""
    secure_cookies: bool = False
    customer_bundle: bool = False
    support_contact: str = ""
    dashboard_seconds: float = 60.0
    """How long a computed dashboard is reused before the metrics are computed again."""
    query_flush_seconds: float = 5.0
    """How often buffered customer views are stored as query events (one write each time:
    a store whose every transaction takes the write lock makes lookups wait for it)."""
