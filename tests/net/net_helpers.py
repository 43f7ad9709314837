"""Shared helpers for the socket tests."""

from __future__ import annotations

import socket as stdlib_socket
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

import nursery.socket as nsocket


def _has_ipv6_loopback() -> bool:
    if not stdlib_socket.has_ipv6:
        return False
    try:
        with stdlib_socket.socket(stdlib_socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
    except OSError:
        return False
    return True


HAS_IPV6 = _has_ipv6_loopback()
needs_ipv6 = pytest.mark.skipif(not HAS_IPV6, reason="no IPv6 loopback (::1) on this machine")


@contextmanager
def socketpair() -> Iterator[tuple[nsocket.SocketType, nsocket.SocketType]]:
    a, b = nsocket.socketpair()
    with a, b:
        yield a, b


async def tcp_listener(family: int = nsocket.AF_INET) -> nsocket.SocketType:
    host = "::1" if family == nsocket.AF_INET6 else "127.0.0.1"
    listener = nsocket.socket(family)
    await listener.bind((host, 0))
    listener.listen()
    return listener


async def tcp_pair(
    family: int = nsocket.AF_INET,
) -> tuple[nsocket.SocketType, nsocket.SocketType]:
    """A connected (client, server) pair over loopback TCP."""
    with await tcp_listener(family) as listener:
        client = nsocket.socket(family)
        await client.connect(listener.getsockname())
        server, _ = await listener.accept()
    return client, server


def unused_tcp_port() -> int:
    """A loopback port with nobody listening (bound then released)."""
    with stdlib_socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


async def fill_send_buffer(sock: nsocket.SocketType) -> int:
    """Send until the kernel refuses more, without blocking; returns the byte count."""
    total = 0
    chunk = b"x" * 65536
    while True:
        try:
            total += sock._sock.send(chunk)  # type: ignore[attr-defined]
        except BlockingIOError:
            return total
