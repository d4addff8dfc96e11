"""Random bytes for ids, tokens and nonces, cut from pooled ``os.urandom`` reads.

Every new order draws an id and a query token, and every audit entry a nonce: one
``os.urandom`` (a system call) each was ~1.6% of ``bench_year.py`` (py-spy). The bytes
are the kernel's CSPRNG output either way; a pool is per thread, and a forked child
starts a fresh one, so parent and child never hand out the same bytes.
"""

from __future__ import annotations

import base64
import os
import threading

__all__ = ["random_bytes", "token_urlsafe"]

_POOL = 4096


class _Pool(threading.local):
    def __init__(self) -> None:
        self.buf = b""
        self.pos = 0


_pool = _Pool()


def _reset() -> None:
    global _pool
    _pool = _Pool()


os.register_at_fork(after_in_child=_reset)


def random_bytes(size: int) -> bytes:
    """``size`` random bytes, each handed out once (more than a pool's 4,096 at once
    are read on their own)."""
    pool = _pool
    pos = pool.pos
    if pos + size > len(pool.buf):
        pool.buf, pos = os.urandom(max(_POOL, size)), 0
    pool.pos = pos + size
    return pool.buf[pos : pos + size]


def token_urlsafe(size: int) -> str:
    """As :func:`secrets.token_urlsafe`: ``size`` random bytes, URL-safe Base64 text."""
    return base64.urlsafe_b64encode(random_bytes(size)).rstrip(b"=").decode("ascii")
