"""Webhooks to a real local HTTP receiver that fails 30% of requests (loopback only)."""

from __future__ import annotations

import json
import random
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from orderflow.adapters.memory import MemoryStore
from orderflow.events import Relay
from orderflow.events.webhook import SIGNATURE_HEADER, WebhookSink, sign, verify_signature
from orderflow.exceptions import InputError
from orderflow.testing.contracts import MAINLINE, draft, seeded_service

SECRET = b"0123456789abcdef-shared"


class Receiver(ThreadingHTTPServer):
    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.rng = random.Random(7)
        self.accepted: dict[str, bytes] = {}
        self.requests = 0
        self.bad_signatures = 0
        self.lock = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        with self.server.lock:
            self.server.requests += 1
            if not verify_signature(SECRET, body, self.headers[SIGNATURE_HEADER]):
                self.server.bad_signatures += 1
                status = 401
            elif self.server.rng.random() < 0.3:
                status = 503  # the gateway is having a bad day
            else:
                self.server.accepted.setdefault(self.headers["Idempotency-Key"], body)
                status = 204
        self.send_response(status)
        self.end_headers()

    def log_message(self, *args: object) -> None:  # keep the test output clean
        pass


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield server
    server.shutdown()
    thread.join(5)
    server.server_close()


def test_every_event_arrives_once_through_a_flaky_receiver(receiver: Receiver) -> None:
    svc = seeded_service(MemoryStore(), seal_rings=10**6)
    for _ in range(40):
        order = svc.submit(draft(), actor="s").order
        for event in MAINLINE:
            svc.fire(order.id, event, actor="p")
    url = f"http://127.0.0.1:{receiver.server_address[1]}/hook"
    sink = WebhookSink(url, SECRET)
    try:
        relay = Relay(svc.store, sink, batch=50, max_attempts=50, sleep=lambda s: None)
        report = relay.run(max_seconds=60)
    finally:
        sink.close()
    expected = svc.store.audit_size()  # one event per entry (alerts: none here)
    assert len(receiver.accepted) == expected == report.delivered
    assert receiver.requests > expected  # some were refused and sent again
    assert receiver.bad_signatures == 0
    assert relay.status().pending == 0
    body = json.loads(next(iter(receiver.accepted.values())))
    assert set(body) == {"id", "type", "schema_version", "body"}


def test_signatures_fail_when_changed_or_old() -> None:
    body = b'{"id":"x"}'
    header = sign(SECRET, body, 1_800_000_000)
    assert verify_signature(SECRET, body, header, now=1_800_000_100)
    assert not verify_signature(SECRET, body + b" ", header, now=1_800_000_100)
    assert not verify_signature(b"another secret!!", body, header, now=1_800_000_100)
    assert not verify_signature(SECRET, body, header, now=1_800_000_000 + 3600)  # replayed
    assert not verify_signature(SECRET, body, "garbage", now=1_800_000_000)


def test_bad_webhook_settings_are_refused() -> None:
    with pytest.raises(InputError, match="http"):
        WebhookSink("ftp://x", SECRET)
    with pytest.raises(InputError, match="16 bytes"):
        WebhookSink("http://127.0.0.1:9/hook", b"short")
