"""The conformance checkers over SocketStream on a Unix socketpair, clogged and not."""

from __future__ import annotations

import socket as stdlib_socket

import nursery
import nursery.socket
from nursery.testing import check_half_closeable_stream


def _socket_stream_pair() -> tuple[nursery.SocketStream, nursery.SocketStream]:
    a, b = nursery.socket.socketpair()
    return nursery.SocketStream(a), nursery.SocketStream(b)


async def socket_stream_pair() -> tuple[nursery.SocketStream, nursery.SocketStream]:
    return _socket_stream_pair()


async def clogged_socket_stream_pair() -> tuple[nursery.SocketStream, nursery.SocketStream]:
    # Small buffers, filled in both directions until the kernel takes no more: then
    # send_all blocks until the peer reads.
    a, b = stdlib_socket.socketpair()
    for sock in (a, b):
        sock.setsockopt(stdlib_socket.SOL_SOCKET, stdlib_socket.SO_SNDBUF, 4096)
        sock.setsockopt(stdlib_socket.SOL_SOCKET, stdlib_socket.SO_RCVBUF, 4096)
        sock.setblocking(False)
    for sender in (a, b):
        try:
            while True:
                sender.send(b"\0" * 4096)
        except BlockingIOError:
            pass
    return (
        nursery.SocketStream(nursery.socket.from_stdlib_socket(a)),
        nursery.SocketStream(nursery.socket.from_stdlib_socket(b)),
    )


async def test_socket_streams() -> None:
    await check_half_closeable_stream(socket_stream_pair, clogged_socket_stream_pair)
