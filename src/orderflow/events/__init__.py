"""Events that leave the process: the outbox relay, JetStream and signed webhooks (R6, R9).

The outbox itself is written by the service (:mod:`orderflow.service.outbox`); this
package delivers it. Sinks load their extras lazily: ``nats`` (``nats-py``) for
:class:`~orderflow.events.jetstream.JetStreamSink`, ``httpx`` for
:class:`~orderflow.events.webhook.WebhookSink`.
"""

from __future__ import annotations

from orderflow.events.relay import (
    DeliveryError,
    EventSink,
    FanoutSink,
    Relay,
    RelayReport,
    RelayStatus,
    event_payload,
)

__all__ = [
    "DeliveryError",
    "EventSink",
    "FanoutSink",
    "Relay",
    "RelayReport",
    "RelayStatus",
    "event_payload",
]
