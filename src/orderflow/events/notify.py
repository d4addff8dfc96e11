"""Notices for people: the customer's link message and stage news, purchasing alerts (R6, R9).

A :class:`NoticeSink` is an event sink: the relay hands it the outbox's events and it turns
the ones people care about into :class:`Notice` values for a :class:`Notifier` (the plant's
SMS/WeChat gateway through :class:`WebhookNotifier`, or :class:`FileNotifier` for the
demo). ``order.submitted`` becomes the customer's link message, the only message that
ever carries the query token; a stage change the policy names (``notify_stages``) becomes
stage news; ``purchasing.alert`` goes to purchasing. A notice carries no internal field
(no price, supplier, credit or operator). The relay's at-least-once delivery applies: a
notice id is its event id, for the gateway to send each message once.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Protocol

import attrs

from orderflow._extras import require
from orderflow.events.relay import DeliveryError
from orderflow.events.webhook import SIGNATURE_HEADER, sign
from orderflow.exceptions import InputError
from orderflow.ports import Store
from orderflow.service.outbox import OutboxEvent
from orderflow.workflow import WorkflowDefinition

__all__ = [
    "FileNotifier",
    "Notice",
    "NoticeSink",
    "NoticeTemplates",
    "Notifier",
    "WebhookNotifier",
]


@attrs.frozen
class Notice:
    """One message to send: to a customer (their id) or to ``purchasing``."""

    id: str
    to: str
    text: str = attrs.field(repr=False)  # the link message carries the customer's token


@attrs.frozen
class NoticeTemplates:
    """The messages' wording (zh-CN, as the plant's customers read them); override any."""

    plant: str = "恒锐机械"
    link_base: str = "https://track.example.com/t/"
    submitted: str = "【{plant}】您的订单{number}可实时追踪：{link}"
    stage: str = "【{plant}】您的订单{number}已进入“{stage}”阶段，请用下单时收到的链接查看详情。"
    alert: str = (
        "【{plant}】物料{component}可用库存{available}，低于安全库存{safety_stock}，请安排补货。"
    )


class Notifier(Protocol):
    """Sends a notice (raise :class:`~orderflow.events.DeliveryError` to have it retried)."""

    def send(self, notice: Notice) -> None:
        """Send one notice."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...


class NoticeSink:
    """An event sink that turns events into notices for a :class:`Notifier`."""

    def __init__(
        self,
        store: Store,
        notifier: Notifier,
        definition: WorkflowDefinition,
        *,
        templates: NoticeTemplates | None = None,
        stages: frozenset[str] = frozenset(),
    ) -> None:
        self.store = store
        self.notifier = notifier
        self.definition = definition
        self.templates = templates or NoticeTemplates()
        self.stages = stages

    def notice(self, event: OutboxEvent) -> Notice | None:
        """The notice an event becomes, if any."""
        t = self.templates
        body = event.body
        if event.type == "purchasing.alert":
            text = t.alert.format(plant=t.plant, component=body["component"],
                                  available=body["available"],
                                  safety_stock=body["safety_stock"])  # fmt: skip
            return Notice(event.id, "purchasing", text)
        if event.type not in ("order.submitted", "order.stage_changed"):
            return None
        if event.type == "order.stage_changed" and body.get("to") not in self.stages:
            return None
        with self.store.transaction() as tx:
            order = tx.get_order(str(body["chain"]))
        if order is None:
            return None
        if event.type == "order.submitted":
            if event.link_token is None:
                return None  # a token is only ever known to the submitting call
            link = t.link_base + event.link_token
            text = t.submitted.format(plant=t.plant, number=order.number, link=link)
        else:
            label = self.definition.label(str(body["to"])).zh
            text = t.stage.format(plant=t.plant, number=order.number, stage=label)
        return Notice(event.id, order.customer_id, text)

    def publish(self, event: OutboxEvent, payload: bytes) -> None:
        """Send the event's notice, if it has one."""
        notice = self.notice(event)
        if notice is not None:
            self.notifier.send(notice)

    def close(self) -> None:
        """Close the notifier."""
        self.notifier.close()


class FileNotifier:
    """Appends each notice as one JSON line (the demo's 'SMS gateway')."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if not self.path.parent.is_dir():
            raise InputError(f"folder {self.path.parent} does not exist")
        self._fh = self.path.open("a", encoding="utf-8")

    def send(self, notice: Notice) -> None:
        """Append the notice."""
        self._fh.write(json.dumps(attrs.asdict(notice), ensure_ascii=False) + "\n")
        self._fh.flush()

    def close(self) -> None:
        """Close the file."""
        self._fh.close()


class WebhookNotifier:
    """POSTs ``{"id", "to", "text"}`` to the plant's SMS/WeChat gateway, signed like the
    event webhooks (``X-Orderflow-Signature``), with the notice id as ``Idempotency-Key``."""

    def __init__(self, url: str, secret: bytes, *, timeout: float = 10.0) -> None:
        if not url.startswith(("http://", "https://")):
            raise InputError(f"a gateway URL starts with http:// or https://, not {url!r}")
        if len(secret) < 16:
            raise InputError("a gateway secret needs at least 16 bytes")
        httpx = require("httpx", "webhooks")
        self.url = url
        self._secret = secret
        self._client: Any = httpx.Client(timeout=timeout)
        self._errors: tuple[type[BaseException], ...] = (httpx.HTTPError,)

    def send(self, notice: Notice) -> None:
        """POST one notice; any answer but 2xx is a :class:`DeliveryError`."""
        body = json.dumps(attrs.asdict(notice), ensure_ascii=False).encode()
        headers = {
            "Content-Type": "application/json",
            "Idempotency-Key": notice.id,
            SIGNATURE_HEADER: sign(self._secret, body, int(time.time())),
        }
        try:
            answer = self._client.post(self.url, content=body, headers=headers)
        except self._errors as exc:
            raise DeliveryError(f"gateway {self.url}: {exc}") from None
        if not 200 <= answer.status_code < 300:
            raise DeliveryError(f"gateway {self.url} answered {answer.status_code}")

    def close(self) -> None:
        """Close the HTTP client."""
        self._client.close()
