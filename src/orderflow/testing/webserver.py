"""Serve an ASGI app with uvicorn on a free loopback port, in a thread (tests, screenshots).

::

    with running_server(app) as base_url:   # "http://127.0.0.1:<port>"
        ...

The server listens on 127.0.0.1 only; leaving the block stops it and waits (bounded) for
its thread, so no test leaves a listening socket behind.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

from orderflow._extras import require
from orderflow.exceptions import InputError

__all__ = ["running_server"]


@contextlib.contextmanager
def running_server(app: Any, *, start_timeout: float = 10.0) -> Iterator[str]:
    """Run ``app`` under uvicorn on ``127.0.0.1:<free port>``; yields the base URL."""
    uvicorn = require("uvicorn", "web")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + start_timeout
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            server.should_exit = True
            raise InputError(f"the test web server did not start within {start_timeout} s")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
