"""Sockets: the low-level ``nursery.socket`` API, then the same echo service as a
``SocketStream`` / ``SocketListener`` pair over loopback TCP, and the resolver hook.

Run it with ``python examples/sockets.py``.
"""

from __future__ import annotations

from typing import Any

import nursery
import nursery.socket as nsocket
from nursery.abc import HostnameResolver

# -- low level: a socketpair ---------------------------------------------------------------


async def socketpair_echo() -> None:
    left, right = nsocket.socketpair()
    with left, right:
        await left.send(b"ping")  # async: waits only if the kernel has no room
        data = await right.recv(1024)  # waits until something arrives
        await right.send(data.upper())
        assert await left.recv(1024) == b"PING"


# -- low level: a TCP server and client ----------------------------------------------------


async def low_level_tcp() -> None:
    listener = nsocket.socket()  # AF_INET, SOCK_STREAM
    await listener.bind(("127.0.0.1", 0))  # async: an address may need resolving
    listener.listen()
    client = nsocket.socket()
    with listener, client:
        async with nursery.open_nursery() as n:
            n.start_soon(client.connect, listener.getsockname())
            server, peer = await listener.accept()
        with server:
            assert peer == client.getsockname()
            await client.send(b"hello")
            assert await server.recv(1024) == b"hello"


async def cancelled_connect_closes_the_socket() -> None:
    listener = nsocket.socket()
    await listener.bind(("127.0.0.1", 0))
    listener.listen()
    with listener:
        client = nsocket.socket()
        with nursery.CancelScope() as scope:
            scope.cancel()
            await client.connect(listener.getsockname())
        # A connection attempt cannot be taken back, so the socket was closed.
        assert client.fileno() == -1


# -- high level: SocketStream and SocketListener -------------------------------------------


async def echo_handler(stream: nursery.SocketStream) -> None:
    async with stream:
        async for chunk in stream:  # ends when the client sends EOF
            await stream.send_all(chunk)


async def echo_server(
    listener: nursery.SocketListener, task_status: nursery.TaskStatus[None]
) -> None:
    async with listener, nursery.open_nursery() as handlers:
        task_status.started()
        while True:
            stream = await listener.accept()
            handlers.start_soon(echo_handler, stream)


async def stream_echo() -> None:
    sock = nsocket.socket()
    await sock.bind(("127.0.0.1", 0))
    sock.listen()
    address = sock.getsockname()
    async with nursery.open_nursery() as n:
        await n.start(echo_server, nursery.SocketListener(sock))

        client = nsocket.socket()
        await client.connect(address)
        async with nursery.SocketStream(client) as stream:
            message = b"x" * 100_000  # more than one send() can take
            await stream.send_all(message)  # returns once the kernel took it all
            echoed = b""
            while len(echoed) < len(message):
                echoed += await stream.receive_some()
            await stream.send_eof()  # "no more from me"; we can still receive
            assert await stream.receive_some() == b""  # the server closed too
        assert echoed == message
        n.cancel_scope.cancel()  # stop the server


# -- the resolver hook ---------------------------------------------------------------------


class StaticResolver(HostnameResolver):
    """Answers every name from a table: handy in tests."""

    def __init__(self, table: dict[bytes, str]) -> None:
        self.table = table

    async def getaddrinfo(
        self,
        host: bytes | None,
        port: bytes | str | int | None,
        family: int = 0,
        type: int = 0,
        proto: int = 0,
        flags: int = 0,
    ) -> list[tuple[Any, ...]]:
        await nursery.lowlevel.checkpoint()
        address = self.table[host or b""]
        return [(nsocket.AF_INET, nsocket.SOCK_STREAM, 6, "", (address, port))]

    async def getnameinfo(self, sockaddr: tuple[Any, ...], flags: int) -> tuple[str, str]:
        raise NotImplementedError


async def custom_resolver() -> None:
    nsocket.set_custom_hostname_resolver(StaticResolver({b"db.internal": "127.0.0.1"}))
    infos = await nsocket.getaddrinfo("db.internal", 5432)
    assert infos[0][4] == ("127.0.0.1", 5432)
    # Numeric addresses never reach the resolver.
    assert (await nsocket.getaddrinfo("127.0.0.2", 80))[0][4] == ("127.0.0.2", 80)


async def main() -> None:
    await socketpair_echo()
    await low_level_tcp()
    await cancelled_connect_closes_the_socket()
    await stream_echo()
    await custom_resolver()
    print("all socket examples passed")


if __name__ == "__main__":
    nursery.run(main)
