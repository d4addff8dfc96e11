"""Events out: what the outbox costs the write path, and how fast the relay delivers.

In one run: (1) the year benchmark's lifecycle (submit + 4 transitions, idempotency keys,
500 orders a transaction) into SQLite with the outbox on and off, alternating, to price
the outbox per order; (2) the relay from that outbox to the local NATS JetStream
(127.0.0.1:4222) and (3) to a loopback webhook receiver, in events/s.

Usage: ``python benchmarks/bench_relay.py [--orders 20000] [--rounds 2]``
"""

from __future__ import annotations

import argparse
import datetime as dt
import secrets
import shutil
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from bench_year import EVENTS, START, seed

from orderflow._batch import batch_gc
from orderflow.adapters.sqlite import SqliteStore
from orderflow.clock import FrozenClock
from orderflow.events import Relay
from orderflow.service import OrderService
from orderflow.service.outbox import OUTBOX


def year(orders: int, *, events: bool) -> tuple[float, str]:
    """Seconds for ``orders`` lifecycles into a fresh SQLite file; the file's path."""
    path = f"{tempfile.mkdtemp()}/relay.db"
    svc = OrderService(
        SqliteStore(path, synchronous="NORMAL"), clock=FrozenClock(START), events=events
    )
    drafts = seed(svc)
    clock = svc.clock
    assert isinstance(clock, FrozenClock)
    started = time.perf_counter()
    for first in range(0, orders, 500):
        with svc.store.transaction():
            for i in range(first, min(first + 500, orders)):
                clock.advance(dt.timedelta(seconds=20))
                order = svc.submit(drafts[i % 1000], actor="s", idempotency_key=f"s{i}").order
                for event in EVENTS:
                    svc.fire(order.id, event, actor="p", idempotency_key=f"{event}{i}")
    elapsed = time.perf_counter() - started
    svc.store.close()
    return elapsed, path


class _Sink(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def relay_rate(path: str, to: str) -> tuple[int, float]:
    """``(events, seconds)`` to deliver a copy of the outbox at ``path`` to ``to``."""
    from orderflow.cli_events import open_sink

    copy = f"{tempfile.mkdtemp()}/copy.db"  # each target gets the whole outbox
    shutil.copy(path, copy)
    store = SqliteStore(copy)
    with store.transaction() as tx:
        count = len(tx.docs(OUTBOX))
    secret = f"{tempfile.mkdtemp()}/secret"
    with open(secret, "w", encoding="utf-8") as fh:
        fh.write(secrets.token_hex(16))
    sink = open_sink(to, secret_file=secret)
    started = time.perf_counter()
    report = Relay(store, sink, batch=1000).run()
    elapsed = time.perf_counter() - started
    sink.close()
    store.close()
    assert report.delivered == count, report
    return count, elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    with batch_gc():
        best = {True: float("inf"), False: float("inf")}
        paths: dict[bool, str] = {}
        for _ in range(args.rounds):
            for events in (False, True):
                seconds, paths[events] = year(args.orders, events=events)
                best[events] = min(best[events], seconds)
        per_order_us = (best[True] - best[False]) / args.orders * 1e6
        print(
            f"write path, {args.orders:,} orders (best of {args.rounds}): outbox off "
            f"{args.orders / best[False]:,.0f} orders/s, on {args.orders / best[True]:,.0f} "
            f"orders/s; the outbox costs {per_order_us:,.0f} us an order "
            f"({100 * (best[True] / best[False] - 1):.1f} %)"
        )
        server = ThreadingHTTPServer(("127.0.0.1", 0), _Sink)
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
        thread.start()
        try:
            for to in ("nats://127.0.0.1:4222", f"http://127.0.0.1:{server.server_address[1]}/"):
                try:
                    count, seconds = relay_rate(paths[True], to)
                except Exception as exc:  # a missing server is a note, not a crash
                    print(f"relay to {to}: skipped ({exc})")
                    continue
                print(f"relay to {to}: {count:,} events in {seconds:.1f} s, "
                      f"{count / seconds:,.0f} events/s")  # fmt: skip
        finally:
            server.shutdown()
            thread.join()
            server.server_close()


if __name__ == "__main__":
    main()
