"""Response headers, per-client rate limits, CSRF checks and a log that keeps secrets out.

Every response gets a strict Content-Security-Policy (no script at all, styles and images
from this origin only), ``Referrer-Policy: no-referrer`` (a status link holds the query
code: it must not leak to another site) and ``Cache-Control: no-store`` (a shared phone
or proxy keeps no order page); only ``/static/`` may be cached.
"""

from __future__ import annotations

import hmac
import logging
import re
import secrets
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from limits import parse
from limits.storage import MemoryStorage
from limits.strategies import FixedWindowRateLimiter
from starlette.requests import Request
from starlette.responses import Response

__all__ = [
    "CSP",
    "FORM_COOKIE",
    "RateLimits",
    "SecurityHeaders",
    "client_id",
    "csrf_ok",
    "form_token",
    "form_token_ok",
    "redact_path",
    "set_form_cookie",
]

log = logging.getLogger("orderflow.web")

CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
"""No script, no inline style, nothing from elsewhere; forms post back here only."""

_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"referrer-policy", b"no-referrer"),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
]
_NO_STORE = (b"cache-control", b"no-store")
_STATIC_CACHE = (b"cache-control", b"public, max-age=3600")

# the customer token is the last path segment of /t/... and /api/v1/t/...
_SECRET_PATH = re.compile(r"^(/(?:api/v1/)?t/)[^/]+")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def redact_path(path: str) -> str:
    """``path`` with a customer query code replaced, fit for a log line."""
    return _SECRET_PATH.sub(r"\1<code>", path)


class SecurityHeaders:
    """ASGI middleware: the headers above on every response, and one redacted access
    log line per request (method, path without secrets, status, milliseconds)."""

    def __init__(self, app: ASGIApp, *, access_log: bool = True) -> None:
        self.app = app
        self.access_log = access_log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        static = scope["path"].startswith("/static/")
        status = 500

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [
                    h for h in message.get("headers", []) if h[0].lower() != b"cache-control"
                ]
                headers.extend(_HEADERS)
                headers.append(_STATIC_CACHE if static and status == 200 else _NO_STORE)
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            if self.access_log and log.isEnabledFor(logging.INFO):
                log.info(
                    "%s %s %d %.1f ms",
                    scope["method"],
                    redact_path(scope["path"]),
                    status,
                    (time.perf_counter() - started) * 1000,
                )


class RateLimits:
    """Fixed-window request budgets per client and purpose, in this process's memory."""

    def __init__(self, **budgets: str) -> None:
        self._limiter = FixedWindowRateLimiter(MemoryStorage())
        self._items = {name: parse(text) for name, text in budgets.items()}

    def allow(self, purpose: str, client: str) -> bool:
        """Count one request of ``client`` for ``purpose``; ``False`` once over budget."""
        item = self._items.get(purpose)
        return item is None or self._limiter.hit(item, purpose, client)

    def retry_after(self, purpose: str) -> int:
        """Seconds a refused client is told to wait (the length of the window)."""
        item = self._items.get(purpose)
        return 60 if item is None else int(item.get_expiry())


def client_id(request: Request) -> str:
    """Who is asking: the peer address (a proxy in front sets it with uvicorn's
    ``--forwarded-allow-ips``, so forwarded headers are never trusted here)."""
    return request.client.host if request.client is not None else "unknown"


def csrf_ok(expected: str | None, given: object) -> bool:
    """Whether a form's CSRF field matches the session's token (constant time)."""
    if not expected or not isinstance(given, str) or not given:
        return False
    return hmac.compare_digest(expected.encode(), given.encode())


FORM_COOKIE = "orderflow_form"
"""Cookie of the double-submit CSRF token on forms used before login (slip, login)."""

_FORM_TOKEN = re.compile(r"[A-Za-z0-9_-]{32}")


def form_token(request: Request) -> str:
    """The browser's pre-login form token (its cookie), or a new one to set."""
    current = request.cookies.get(FORM_COOKIE, "")
    return current if _FORM_TOKEN.fullmatch(current) else secrets.token_urlsafe(24)


def form_token_ok(request: Request, given: object) -> bool:
    """Whether a pre-login form carries the token its cookie holds (constant time)."""
    return csrf_ok(request.cookies.get(FORM_COOKIE), given)


def set_form_cookie(response: Response, token: str, *, secure: bool) -> None:
    """Give the browser its pre-login form token (HTTP only, same site)."""
    response.set_cookie(
        FORM_COOKIE, token, httponly=True, samesite="strict", secure=secure, path="/"
    )


FORM_EXPIRED = "表单已过期，请重试 / The form expired; please try again"
TOO_MANY = "请求过于频繁，请稍后再试 / Too many requests; please wait a minute"
