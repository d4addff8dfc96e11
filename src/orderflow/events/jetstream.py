"""Events to NATS JetStream (the ``nats`` extra: ``nats-py``).

Each event is published on ``<prefix>.<type>`` (``orderflow.order.stage_changed``) with
the ``Nats-Msg-Id`` header set to the event id: JetStream drops a second copy within the
stream's duplicate window (2 minutes unless set), which is what makes the relay's
at-least-once delivery arrive once. The stream (default ``ORDERFLOW``, subjects
``<prefix>.>``) is created if it does not exist.
"""

from __future__ import annotations

import asyncio
from typing import Any

from orderflow._extras import require
from orderflow.events.relay import DeliveryError
from orderflow.service.outbox import OutboxEvent

__all__ = ["JetStreamSink"]


class JetStreamSink:
    """Publishes to JetStream, waiting for each acknowledgement."""

    def __init__(
        self,
        url: str = "nats://127.0.0.1:4222",
        *,
        stream: str = "ORDERFLOW",
        prefix: str = "orderflow",
        timeout: float = 5.0,
        window: int = 256,
    ) -> None:
        self._nats = require("nats", "nats")
        self.url = url
        self.stream = stream
        self.prefix = prefix
        self.timeout = timeout
        self.window = window
        """Publishes in flight at once (of different orders)."""
        self.duplicates = 0
        """Publishes JetStream recognised as already stored (a redelivery)."""
        self._loop = asyncio.new_event_loop()
        try:
            self._client: Any = self._loop.run_until_complete(self._connect())
        except Exception as exc:  # the client raises many kinds; say which server failed
            self._loop.close()
            raise DeliveryError(f"cannot reach NATS at {url}: {exc}") from None
        self._js = self._client.jetstream(timeout=timeout)
        self._loop.run_until_complete(self._ensure_stream())

    async def _connect(self) -> Any:
        return await self._nats.connect(
            self.url, connect_timeout=self.timeout, max_reconnect_attempts=2, allow_reconnect=True
        )

    async def _ensure_stream(self) -> None:
        errors = require("nats.js.errors", "nats")
        try:
            await self._client.jetstream().stream_info(self.stream)
        except errors.NotFoundError:
            await self._client.jetstream().add_stream(
                name=self.stream, subjects=[f"{self.prefix}.>"]
            )

    def publish(self, event: OutboxEvent, payload: bytes) -> None:
        """Publish one event and wait for JetStream to store it."""
        subject = f"{self.prefix}.{event.type}"
        try:
            ack = self._loop.run_until_complete(
                self._js.publish(subject, payload, headers={"Nats-Msg-Id": event.id})
            )
        except Exception as exc:
            raise DeliveryError(f"NATS {self.url}: {type(exc).__name__}: {exc}") from None
        if getattr(ack, "duplicate", False):
            self.duplicates += 1

    def publish_batch(self, items: list[tuple[OutboxEvent, bytes]]) -> list[str | None]:
        """Publish events of different orders concurrently (up to ``window`` in flight);
        one error text or ``None`` per item."""
        return self._loop.run_until_complete(self._publish_all(items))

    async def _publish_all(self, items: list[tuple[OutboxEvent, bytes]]) -> list[str | None]:
        out: list[str | None] = []
        for start in range(0, len(items), self.window):
            chunk = items[start : start + self.window]
            acks = await asyncio.gather(
                *(
                    self._js.publish(
                        f"{self.prefix}.{event.type}", payload, headers={"Nats-Msg-Id": event.id}
                    )
                    for event, payload in chunk
                ),
                return_exceptions=True,
            )
            for ack in acks:
                if isinstance(ack, BaseException):
                    out.append(f"NATS {self.url}: {type(ack).__name__}: {ack}")
                else:
                    self.duplicates += bool(getattr(ack, "duplicate", False))
                    out.append(None)
        return out

    def close(self) -> None:
        """Drain the connection and close the loop."""
        try:
            self._loop.run_until_complete(self._client.drain())
        finally:
            self._loop.close()
