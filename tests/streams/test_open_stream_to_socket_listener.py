"""open_stream_to_socket_listener, and the checkers over TCP streams made with it."""

from __future__ import annotations

import os
import socket as stdlib_socket
from pathlib import Path

import pytest

import nursery
import nursery.socket as nsocket
from nursery.testing import check_half_closeable_stream, open_stream_to_socket_listener


def _has_ipv6_loopback() -> bool:
    try:
        with stdlib_socket.socket(stdlib_socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
    except OSError:
        return False
    return True


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


async def listener_on(family: int, address: object) -> nursery.SocketListener:
    sock = nsocket.socket(family)
    await sock.bind(address)
    sock.listen()
    return nursery.SocketListener(sock)


async def assert_connected(listener: nursery.SocketListener) -> None:
    client = await open_stream_to_socket_listener(listener)
    assert isinstance(client, nursery.SocketStream)
    async with client, await listener.accept() as server:
        await client.send_all(b"hello")
        assert await server.receive_some() == b"hello"
        await server.send_all(b"back")
        assert await client.receive_some() == b"back"


@pytest.mark.parametrize(
    ("family", "host"),
    [
        (nsocket.AF_INET, "127.0.0.1"),
        (nsocket.AF_INET, "0.0.0.0"),  # a wildcard listener is reached over loopback
        pytest.param(
            nsocket.AF_INET6,
            "::",
            marks=pytest.mark.skipif(not _has_ipv6_loopback(), reason="no IPv6 loopback"),
        ),
    ],
)
async def test_tcp(family: int, host: str) -> None:
    async with await listener_on(family, (host, 0)) as listener:
        await assert_connected(listener)


async def test_unix(tmp_path: Path) -> None:
    async with await listener_on(nsocket.AF_UNIX, str(tmp_path / "socket")) as listener:
        await assert_connected(listener)


async def test_bad_argument() -> None:
    with pytest.raises(TypeError, match="expected a SocketListener"):
        await open_stream_to_socket_listener(nsocket.socket())  # type: ignore[arg-type]


async def test_cancelled_or_refused_leaves_no_socket_behind() -> None:
    async with await listener_on(nsocket.AF_INET, ("127.0.0.1", 0)) as listener:
        before = open_fds()
        with nursery.CancelScope() as scope:
            scope.cancel()
            await open_stream_to_socket_listener(listener)
        assert scope.cancelled_caught
        assert open_fds() == before

    # A listener whose socket has stopped listening: the connection is refused.
    sock = nsocket.socket(nsocket.AF_INET)
    await sock.bind(("127.0.0.1", 0))
    sock.listen()
    listener = nursery.SocketListener(sock)
    port = sock.getsockname()[1]
    sock.close()
    replacement = nsocket.socket(nsocket.AF_INET)
    replacement.setsockopt(nsocket.SOL_SOCKET, nsocket.SO_REUSEADDR, 1)
    await replacement.bind(("127.0.0.1", port))  # bound, never listening
    with replacement:
        listener.socket = replacement
        before = open_fds()
        with pytest.raises(ConnectionRefusedError):
            await open_stream_to_socket_listener(listener)
        assert open_fds() == before


async def test_checkers_over_tcp() -> None:
    async with await listener_on(nsocket.AF_INET, ("127.0.0.1", 0)) as listener:

        async def tcp_stream_pair() -> tuple[nursery.SocketStream, nursery.SocketStream]:
            client = await open_stream_to_socket_listener(listener)
            return client, await listener.accept()

        await check_half_closeable_stream(tcp_stream_pair, None)
