"""Signed webhooks: each event POSTed as JSON, signed the way the large providers do it.

The ``X-Orderflow-Signature`` header is ``t=<unix seconds>,v1=<hex HMAC-SHA256>`` over
``"<t>." + body`` under the shared secret (the scheme Stripe documents for its
webhooks); ``Idempotency-Key`` carries the event id, so a receiver that sees an id twice
(the relay delivers at least once) acts once. :func:`verify_signature` is what a
receiver runs; the events guide shows it in a handler.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Any

from orderflow._extras import require
from orderflow.events.relay import DeliveryError
from orderflow.exceptions import InputError
from orderflow.service.outbox import OutboxEvent

__all__ = ["SIGNATURE_HEADER", "WebhookSink", "sign", "verify_signature"]

SIGNATURE_HEADER = "X-Orderflow-Signature"


def sign(secret: bytes, body: bytes, timestamp: int) -> str:
    """The signature header value for ``body`` sent at ``timestamp`` (unix seconds)."""
    mac = hmac.new(secret, str(timestamp).encode() + b"." + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify_signature(
    secret: bytes, body: bytes, header: str, *, tolerance_s: int = 300, now: float | None = None
) -> bool:
    """Whether ``header`` signs ``body`` under ``secret`` within ``tolerance_s`` of now
    (an old, replayed request fails); compared in constant time."""
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        timestamp = int(parts["t"])
        given = parts["v1"]
    except (ValueError, KeyError):
        return False
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance_s:
        return False
    expected = sign(secret, body, timestamp).split("v1=", 1)[1]
    return hmac.compare_digest(expected, given)


class WebhookSink:
    """POSTs each event to ``url`` (the ``httpx`` package, part of the ``web`` and ``nats``
    extras' neighbours: ``pip install httpx``)."""

    def __init__(self, url: str, secret: bytes, *, timeout: float = 10.0) -> None:
        if not url.startswith(("http://", "https://")):
            raise InputError(f"a webhook URL starts with http:// or https://, not {url!r}")
        if len(secret) < 16:
            raise InputError("a webhook secret needs at least 16 bytes")
        httpx = require("httpx", "webhooks")
        self.url = url
        self._secret = secret
        self._client: Any = httpx.Client(timeout=timeout)
        self._errors: tuple[type[BaseException], ...] = (httpx.HTTPError,)

    def publish(self, event: OutboxEvent, payload: bytes) -> None:
        """POST one event; any answer but 2xx is a :class:`DeliveryError`."""
        headers = {
            "Content-Type": "application/json",
            "Idempotency-Key": event.id,
            "X-Orderflow-Event": event.type,
            SIGNATURE_HEADER: sign(self._secret, payload, int(time.time())),
        }
        try:
            answer = self._client.post(self.url, content=payload, headers=headers)
        except self._errors as exc:
            raise DeliveryError(f"webhook {self.url}: {exc}") from None
        if not 200 <= answer.status_code < 300:
            raise DeliveryError(f"webhook {self.url} answered {answer.status_code}")

    def close(self) -> None:
        """Close the HTTP client."""
        self._client.close()
