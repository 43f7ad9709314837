"""Our own versions of the helpers Trio's tests import from their ``tutil`` module."""

from __future__ import annotations

import asyncio
import gc
import socket
import sys
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import pytest

# Slow tests are run: nothing is skipped for being slow.
slow = pytest.mark.skipif(False, reason="never skipped")


def _probe_ipv6(bind: bool) -> bool:
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as sock:
            if bind:
                sock.bind(("::1", 0))
    except OSError:
        return False
    return True


can_create_ipv6 = _probe_ipv6(bind=False)
can_bind_ipv6 = _probe_ipv6(bind=True)
creates_ipv6 = pytest.mark.skipif(not can_create_ipv6, reason="no IPv6")
binds_ipv6 = pytest.mark.skipif(not can_bind_ipv6, reason="no IPv6")
skip_if_fbsd_pipes_broken = pytest.mark.skipif(False, reason="Linux only")


def gc_collect_harder() -> None:
    # Objects resurrected by a finalizer need more than one pass.
    for _ in range(4):
        gc.collect()


@contextmanager
def ignore_coroutine_never_awaited_warnings() -> Iterator[None]:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="coroutine .* was never awaited")
        try:
            yield
        finally:
            gc_collect_harder()


@contextmanager
def restore_unraisablehook() -> Iterator[None]:
    saved = sys.unraisablehook
    sys.unraisablehook = sys.__unraisablehook__
    try:
        yield
    finally:
        sys.unraisablehook = saved


def check_sequence_matches(seq: Sequence[Any], template: Sequence[Any]) -> None:
    """``template`` items are values, or sets of values that may come in any order."""
    pos = 0
    for item in template:
        group = item if isinstance(item, set) else {item}
        assert set(seq[pos : pos + len(group)]) == group, (seq, template)
        pos += len(group)


def create_asyncio_future_in_new_loop() -> asyncio.Future[object]:
    loop = asyncio.new_event_loop()
    try:
        return loop.create_future()
    finally:
        loop.close()
