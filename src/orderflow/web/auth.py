"""Staff users, scrypt password hashes and signed session cookies.

Users come from a small TOML file (``users.toml``)::

    [users.li]
    password = "scrypt$16384$8$1$<salt>$<hash>"   # orderflow web-user li --factory NB1=manager
    factories = { NB1 = "manager" }

    [users.zhao]
    password = "scrypt$..."
    group_admin = true

Each user becomes an :class:`~orderflow.geo.Actor` whose factory scopes the service
checks on every staff request (R10). Sessions are an HMAC-SHA256 signed cookie carrying
the user id, an expiry and the session's CSRF token; nothing is stored server-side.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from orderflow.exceptions import InputError
from orderflow.geo import Actor

__all__ = [
    "Session",
    "StaffUser",
    "check_login",
    "hash_password",
    "load_users",
    "open_session",
    "seal_session",
    "verify_password",
]

# scrypt parameters: n=2^14, r=8, p=1 is the interactive-login setting the scrypt paper
# and OWASP name; about 16 MiB and tens of milliseconds per check
_N, _R, _P = 2**14, 8, 1


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    """A storable scrypt hash of ``password``: ``scrypt$n$r$p$salt$hash``."""
    if not password:
        raise InputError("a staff password cannot be empty")
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    return f"scrypt${_N}${_R}${_P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    """Whether ``password`` matches a :func:`hash_password` value (constant-time compare)."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        got = hashlib.scrypt(
            password.encode(),
            salt=_unb64(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(_unb64(digest)),
            maxmem=64 * 2**20,
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, _unb64(digest))


# checked when the user is unknown, so a wrong name costs as long as a wrong password
_DUMMY = hash_password("orderflow-no-such-user", salt=b"\0" * 16)


@attrs.frozen
class StaffUser:
    """A staff login: its id, password hash and factory scopes."""

    id: str
    password_hash: str = attrs.field(repr=False)
    actor: Actor

    def check(self, password: str) -> bool:
        """Whether ``password`` is this user's."""
        return verify_password(password, self.password_hash)


def check_login(users: Mapping[str, StaffUser], name: str, password: str) -> StaffUser | None:
    """The user if the name and password match, else ``None`` after the same work."""
    user = users.get(name)
    if user is None:
        verify_password(password, _DUMMY)
        return None
    return user if user.check(password) else None


def load_users(path: str | Path) -> dict[str, StaffUser]:
    """Staff users from a TOML file (layout in the module docstring)."""
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise InputError(f"staff users file {path}: {exc}") from None
    users: dict[str, StaffUser] = {}
    for name, body in dict(data.get("users", {})).items():
        if not isinstance(body, dict) or not isinstance(body.get("password"), str):
            raise InputError(f"staff users file {path}: user {name!r} needs a 'password' hash")
        try:
            actor = Actor(
                name,
                dict(body.get("factories", {})),
                group_admin=bool(body.get("group_admin", False)),
            )
        except (InputError, ValueError, TypeError) as exc:
            raise InputError(f"staff users file {path}: user {name!r}: {exc}") from None
        users[name] = StaffUser(name, body["password"], actor)
    return users


@attrs.frozen
class Session:
    """A signed-in staff session: who, until when (epoch seconds), its CSRF token."""

    user: str
    expires: int
    csrf: str


def seal_session(session: Session, key: bytes) -> str:
    """The cookie value of ``session``: payload and HMAC-SHA256 tag, both base64url."""
    payload = json.dumps(
        {"u": session.user, "e": session.expires, "c": session.csrf}, separators=(",", ":")
    ).encode()
    tag = hmac.new(key, payload, hashlib.sha256).digest()
    return f"{_b64(payload)}.{_b64(tag)}"


def open_session(value: str | None, key: bytes, *, now: float | None = None) -> Session | None:
    """The session in a cookie value, or ``None`` if absent, forged or expired."""
    if not value or value.count(".") != 1:
        return None
    try:
        body, tag = (_unb64(part) for part in value.split("."))
    except ValueError:
        return None
    if not hmac.compare_digest(hmac.new(key, body, hashlib.sha256).digest(), tag):
        return None
    try:
        data: Any = json.loads(body)
        session = Session(str(data["u"]), int(data["e"]), str(data["c"]))
    except (ValueError, KeyError, TypeError):
        return None
    return session if session.expires > (time.time() if now is None else now) else None
