"""Customer status page served over HTTP (R9: 0.3 s asked; target p99 < 50 ms).

Run: ``.venv/bin/python benchmarks/bench_web.py --db year.db`` where ``year.db`` comes from
``orderflow simulate --db year.db --orders 147000 --quiet`` (about 3 minutes), or
``--orders 20000`` to make a smaller one first.

A copy of the database gets ``--tokens`` fresh orders (query codes are stored only as
hashes, so the benchmark makes codes it knows), taken a few stages on. uvicorn serves the
app from another process on 127.0.0.1; ``--clients`` concurrent async httpx clients ask for
``/t/{code}`` for ``--seconds`` (one in ten codes unknown: those answer 404 by design and
are not errors). The same run measures a minimal Starlette "hello" route as the ceiling of
this machine and prints the ratio. Prints requests/s, p50/p99/max and errors.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

import orderflow
from orderflow.domain import OrderLine
from orderflow.exceptions import TransitionRefused
from orderflow.service.orders import OrderDraft


def make_tokens(db: Path, count: int) -> list[str]:
    """Submit ``count`` orders like the plant's own (same customer, product, factory)."""
    svc = orderflow.connect(f"sqlite:///{db}?synchronous=NORMAL")
    model = next(iter(svc.store.orders()))
    line = model.lines[0]
    tokens = []
    with svc.store.transaction():
        for i in range(count):
            draft = OrderDraft(
                model.customer_id,
                (OrderLine(line.product, 1, line.unit_price),),
                model.requested_date,
                model.factory_id,
            )
            sub = svc.submit(draft, actor="bench")
            assert sub.query_token is not None
            tokens.append(sub.query_token)
            for event in ("lock_kitting", "dispatch_production")[: i % 3]:
                try:
                    svc.fire(sub.order.id, event, actor="bench")
                except TransitionRefused:
                    break
    svc.store.close()
    return tokens


def serve(kind: str, db: str, port: int, flush: float = 5.0) -> None:
    """Server process: the orderflow app over ``db``, or the hello ceiling."""
    import uvicorn

    if kind == "hello":
        from starlette.applications import Starlette
        from starlette.responses import PlainTextResponse
        from starlette.routing import Route

        def hello(request: Any) -> PlainTextResponse:
            return PlainTextResponse("hello")

        app: Any = Starlette(routes=[Route("/t/{token}", hello)])
    else:
        from orderflow.web import WebConfig, create_app

        svc = orderflow.connect(f"sqlite:///{db}")
        # the limiter stays in the path (its cost counts) with a budget no client reaches
        app = create_app(
            svc, config=WebConfig(customer_rate="100000000/minute", query_flush_seconds=flush)
        )
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class RawClient:
    """One keep-alive HTTP/1.1 connection over asyncio streams.

    Measured here, httpx's own per-request cost (about 7 ms of client CPU) capped a run
    near 140 requests/s whatever the server, so by default each simulated client is this
    bare connection (``--client httpx`` uses httpx.AsyncClient instead).
    """

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def get(self, path: str) -> int:
        if self.writer is None or self.reader is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        self.writer.write(f"GET {path} HTTP/1.1\r\nHost: {self.host}\r\n\r\n".encode())
        await self.writer.drain()
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        await self.reader.readexactly(length)
        return status

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


async def load(
    url: str, tokens: list[str], clients: int, seconds: float, kind: str, pace: float = 0.0
) -> dict[str, Any]:
    """``clients`` concurrent loops for ``seconds``: latencies, statuses, errors.

    ``pace`` 0: each client asks again as soon as it has its answer (saturation: with a
    closed loop, mean latency = clients / throughput). ``pace`` > 0: each client asks once
    per ``pace`` seconds, starting at a random offset (customers arriving at a set rate).
    """
    rng = random.Random(7)
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    errors = 0
    deadline = time.perf_counter() + seconds
    host, port = url.removeprefix("http://").split(":")
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=10.0) as shared:

        async def worker() -> None:
            nonlocal errors
            raw = RawClient(host, int(port))
            due = time.perf_counter() + rng.random() * pace
            try:
                while time.perf_counter() < deadline:
                    if pace:
                        await asyncio.sleep(max(0.0, due - time.perf_counter()))
                        due += pace
                        if time.perf_counter() >= deadline:
                            break
                    token = rng.choice(tokens) if rng.random() >= 0.1 else "unknown-code-x"
                    started = time.perf_counter()
                    try:
                        if kind == "httpx":
                            status = (await shared.get(f"/t/{token}")).status_code
                        else:
                            status = await asyncio.wait_for(raw.get(f"/t/{token}"), 10.0)
                    except (httpx.HTTPError, OSError, asyncio.IncompleteReadError, TimeoutError):
                        errors += 1
                        await raw.close()
                        raw = RawClient(host, int(port))
                        continue
                    latencies.append(time.perf_counter() - started)
                    statuses[status] = statuses.get(status, 0) + 1
                    if status not in (200, 404):
                        errors += 1
            finally:
                await raw.close()

        await asyncio.gather(*(worker() for _ in range(clients)))
    ordered = sorted(latencies)
    return {
        "requests": len(ordered),
        "rps": len(ordered) / seconds,
        "p50": statistics.median(ordered) * 1e3 if ordered else float("nan"),
        "p99": ordered[int(len(ordered) * 0.99)] * 1e3 if ordered else float("nan"),
        "max": ordered[-1] * 1e3 if ordered else float("nan"),
        "errors": errors,
        "statuses": statuses,
    }


def run(
    kind: str, db: str, tokens: list[str], args: argparse.Namespace
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Saturation and paced runs against one server process."""
    port = free_port()
    server = multiprocessing.get_context("spawn").Process(
        target=serve, args=(kind, db, port, args.flush_seconds)
    )
    server.start()
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):  # wait (bounded) for the server to answer
            try:
                httpx.get(f"{url}/t/warm-up-code", timeout=1.0)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        asyncio.run(
            load(url, tokens, args.clients, 2.0, args.client)
        )  # warm caches and connections
        full = asyncio.run(load(url, tokens, args.clients, args.seconds, args.client))
        paced = asyncio.run(
            load(url, tokens, args.clients, args.seconds, args.client, pace=args.pace)
        )
        return full, paced
    finally:
        server.terminate()
        server.join(timeout=10)


def show(name: str, r: dict[str, Any]) -> None:
    print(
        f"  {name:24s} {r['rps']:8,.0f} req/s  p50 {r['p50']:6.1f} ms  p99 {r['p99']:6.1f} ms  "
        f"max {r['max']:7.1f} ms  errors {r['errors']}  ({r['requests']:,} requests, "
        f"statuses {r['statuses']})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, help="a simulated year (orderflow simulate)")
    parser.add_argument("--orders", type=int, default=147_000, help="simulate this many if no --db")
    parser.add_argument("--tokens", type=int, default=2_000)
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--client", choices=["raw", "httpx"], default="raw")
    parser.add_argument(
        "--flush-seconds",
        type=float,
        default=5.0,
        help="how often the app stores buffered views (WebConfig)",
    )
    parser.add_argument("--pace", type=float, default=1.0, help="paced run: s between asks")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-web-"))
    db = work / "year.db"
    try:
        if args.db is not None:
            shutil.copy(args.db, db)
        else:
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "orderflow.cli",
                    "simulate",
                    "--db",
                    str(db),
                    "--orders",
                    str(args.orders),
                    "--quiet",
                ],
                check=True,
            )
        svc = orderflow.connect(f"sqlite:///{db}")
        orders = sum(1 for _ in svc.store.orders())
        svc.store.close()
        tokens = make_tokens(db, args.tokens)
        load1 = os.getloadavg()[0]
        print(
            f"{orders:,} orders in SQLite (+{args.tokens:,} with known codes); "
            f"{args.clients} {args.client} clients x {args.seconds:.0f} s; {os.cpu_count()} CPUs; "
            f"load average before {load1:.2f}"
        )
        page, page_paced = run("orderflow", str(db), tokens, args)
        hello, hello_paced = run("hello", str(db), tokens, args)
        print("saturation (each client asks again at once):")
        show("customer page /t/{code}", page)
        show("starlette hello", hello)
        print(f"paced (each client asks once every {args.pace:g} s):")
        show("customer page /t/{code}", page_paced)
        show("starlette hello", hello_paced)
        print(
            f"ratio page/hello: {page['rps'] / hello['rps']:.2f} of the ceiling's throughput; "
            f"paced p99 < 50 ms: {'met' if page_paced['p99'] < 50 else 'MISSED'}; "
            f"load average after {os.getloadavg()[0]:.2f}"
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
