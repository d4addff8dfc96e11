"""Checks at the use-case boundary: nothing invalid is ever stored (R5).

Each check raises :class:`~orderflow.InputError` naming the field and what is wrong with
the value, before a transaction opens. A value that passed is safe for every reader,
so no stored row can crash the verifier, the report or a replay.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Mapping
from typing import Any

from orderflow.domain import OrderLine
from orderflow.exceptions import InputError
from orderflow.geo.access import Actor

__all__ = [
    "SERVICE_CONTEXT_KEYS",
    "actor_key",
    "check_context",
    "check_date",
    "check_instant",
    "check_lines",
    "check_text",
]

SERVICE_CONTEXT_KEYS = frozenset(
    {
        "action", "batch_of", "category", "deadline", "device_of", "event", "held_from",
        "incident", "kitting_rate", "occurred", "policy", "reason", "root_cause", "stage",
        "source", "version",
    }
)  # fmt: skip
"""Context keys the service writes itself (and every ``check.*``): a caller's context may
not use them, so nobody can forge a floor time, a deadline or a policy version."""

_KEY = re.compile(r"^[a-z][a-z0-9_.-]{0,39}$")
MAX_TEXT = 500


def check_text(value: Any, what: str, *, max_len: int = MAX_TEXT, blank: bool = True) -> str:
    """Text of at most ``max_len`` characters, valid Unicode in NFC form."""
    if not isinstance(value, str):
        raise InputError(f"{what} must be text, not {type(value).__name__} {value!r:.40}")
    if len(value) > max_len:
        raise InputError(f"{what} has {len(value)} characters; at most {max_len} are allowed")
    if not blank and not value.strip():
        raise InputError(f"{what} must not be blank")
    if value.isascii() and value.isprintable():  # the common case, checked in C
        return value
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InputError(f"{what} is not valid Unicode text: {value!r:.40}") from None
    if not unicodedata.is_normalized("NFC", value):
        raise InputError(f"{what} must be in Unicode NFC form (normalise it first)")
    if any(unicodedata.category(c) == "Cc" and c not in "\t\n" for c in value):
        raise InputError(f"{what} contains control characters")
    return value


def check_date(value: Any, what: str) -> dt.date:
    """A calendar date (a ``datetime`` is refused: a date has no time zone)."""
    if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
        raise InputError(
            f"{what} must be a date such as datetime.date(2026, 7, 1), not "
            f"{type(value).__name__} {value!r:.40}"
        )
    if not 2000 <= value.year <= 2100:
        raise InputError(f"{what} {value} is outside the years 2000..2100")
    return value


def check_instant(
    value: Any, what: str, *, not_before: dt.datetime, now: dt.datetime, skew_s: int
) -> dt.datetime:
    """A time-zone aware instant between ``not_before`` and ``now`` plus a clock skew."""
    if not isinstance(value, dt.datetime) or value.utcoffset() is None:
        raise InputError(
            f"{what} must be a time-zone aware datetime, not {type(value).__name__} {value!r:.40}"
        )
    if value < not_before:
        raise InputError(f"{what} {value.isoformat()} is before {not_before.isoformat()}")
    if value > now + dt.timedelta(seconds=skew_s):
        raise InputError(
            f"{what} {value.isoformat()} is in the future (now {now.isoformat()}, "
            f"allowed clock skew {skew_s} s)"
        )
    return value


def check_context(context: Any) -> dict[str, str]:
    """A caller's audit context: short lower-case keys, text values, no service keys."""
    if context is None:
        return {}
    if not isinstance(context, Mapping):
        raise InputError(f"context must be a mapping of text to text, not {type(context).__name__}")
    if len(context) > 20:
        raise InputError(f"context has {len(context)} keys; at most 20 are allowed")
    out = {}
    for key, value in context.items():
        if not isinstance(key, str) or not _KEY.match(key):
            raise InputError(
                f"context key {key!r:.40} must be lower-case ASCII letters, digits, '_', '.' "
                "or '-', starting with a letter, at most 40 characters"
            )
        if key in SERVICE_CONTEXT_KEYS or key.startswith(("check.", "risk.")):
            raise InputError(
                f"context key {key!r} is written by orderflow itself; use another name "
                "(e.g. 'note' or 'operator')"
            )
        out[key] = check_text(value, f"context value {key}")
    return out


def check_lines(value: Any) -> tuple[OrderLine, ...]:
    """Order lines: a non-empty sequence of :class:`~orderflow.OrderLine` (at most 200)."""
    if isinstance(value, str | bytes | Mapping) or not hasattr(value, "__iter__"):
        raise InputError(f"lines must be a list of OrderLine, not {type(value).__name__}")
    lines = tuple(value)
    if not lines:
        raise InputError("an order needs at least one line")
    if len(lines) > 200:
        raise InputError(f"an order has at most 200 lines, not {len(lines)}")
    for i, line in enumerate(lines):
        if not isinstance(line, OrderLine):
            raise InputError(f"lines[{i}] must be an OrderLine, not {type(line).__name__}")
    return lines


def actor_key(actor: Any) -> str:
    """Who made a request, for its idempotency fingerprint (the id and, for an
    :class:`~orderflow.geo.Actor`, its scopes): another actor's retry is another request."""
    if isinstance(actor, Actor):
        scopes = ",".join(f"{m.factory_id}:{m.role}" for m in actor.memberships)
        return f"{actor.id}[{scopes}{',*' if actor.group_admin else ''}]"
    return str(actor)
