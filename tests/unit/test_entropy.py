"""Pooled random bytes: each handed out once, in threads and across a fork."""

from __future__ import annotations

import base64
import os
import re
import sys
import threading

import pytest

from orderflow._entropy import random_bytes, token_urlsafe


def test_bytes_are_handed_out_once_across_pool_refills() -> None:
    drawn = [random_bytes(16) for _ in range(3000)]  # ~12 pools of 4 KiB
    assert all(len(b) == 16 for b in drawn)
    assert len(set(drawn)) == len(drawn)
    assert len(random_bytes(5000)) == 5000  # more than a pool at once


def test_threads_draw_from_their_own_pools() -> None:
    drawn: list[bytes] = []
    lock = threading.Lock()

    def draw() -> None:
        mine = [random_bytes(16) for _ in range(500)]
        with lock:
            drawn.extend(mine)

    threads = [threading.Thread(target=draw) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(drawn)) == 2000


@pytest.mark.skipif(sys.platform == "win32", reason="os.fork")
def test_a_forked_child_never_repeats_its_parents_bytes() -> None:
    random_bytes(16)  # the parent's pool is filled: a child would inherit it
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report its next bytes and leave at once
        os.write(write, random_bytes(16))
        os._exit(0)
    os.close(write)
    child = os.read(read, 16)
    os.close(read)
    os.waitpid(pid, 0)
    assert len(child) == 16
    assert child != random_bytes(16)


def test_a_token_is_url_safe_text_of_its_bytes() -> None:
    token = token_urlsafe(16)
    assert re.fullmatch(r"[A-Za-z0-9_-]{22}", token)
    assert len(base64.urlsafe_b64decode(token + "==")) == 16
