"""An echo server and its clients in one program, over loopback: serve_tcp, then the
same with open_tcp_listeners and serve_listeners, open_tcp_stream, half-closing, and
what a failed connection looks like."""

from functools import partial

import nursery


async def echo(stream: nursery.SocketStream) -> None:
    # One task per connection. Echo until the client closes its side; the stream is
    # closed for us when this returns (or raises).
    async for chunk in stream:
        await stream.send_all(chunk)


async def ask(port: int, message: bytes) -> bytes:
    async with await nursery.open_tcp_stream("127.0.0.1", port) as stream:
        await stream.send_all(message)
        await stream.send_eof()  # "that is all": the server's loop ends
        reply = b""
        async for chunk in stream:  # until the server closes its side
            reply += chunk
        return reply


async def serve_and_ask() -> None:
    async with nursery.open_nursery() as n:
        # start() returns once the server listens; port 0 lets the kernel pick one.
        listeners = await n.start(partial(nursery.serve_tcp, echo, 0, host="127.0.0.1"))
        port = listeners[0].socket.getsockname()[1]

        replies: dict[str, bytes] = {}

        async def client(name: str) -> None:
            replies[name] = await ask(port, f"hello from {name}".encode())

        async with nursery.open_nursery() as clients:
            for name in ["ana", "bo", "cy"]:
                clients.start_soon(client, name)
        print(dict(sorted(replies.items())))
        assert replies == {name: f"hello from {name}".encode() for name in replies}
        assert len(replies) == 3

        n.cancel_scope.cancel()  # stop serving: closes the listeners


async def listeners_by_hand() -> None:
    # serve_tcp is open_tcp_listeners + serve_listeners. Doing the two steps yourself
    # lets you choose the addresses, and run the handlers in a nursery of your own.
    listeners = await nursery.open_tcp_listeners(0, host="127.0.0.1", backlog=100)
    port = listeners[0].socket.getsockname()[1]
    async with nursery.open_nursery() as handlers, nursery.open_nursery() as server:
        await server.start(
            partial(nursery.serve_listeners, echo, listeners, handler_nursery=handlers)
        )
        assert await ask(port, b"by hand") == b"by hand"
        server.cancel_scope.cancel()
    print("served by hand on port", port)


async def connection_refused() -> None:
    # Take a free port and close it again: nothing listens there any more.
    (listener,) = await nursery.open_tcp_listeners(0, host="127.0.0.1")
    port = listener.socket.getsockname()[1]
    await listener.aclose()
    try:
        await nursery.open_tcp_stream("127.0.0.1", port)
    except OSError as exc:
        print("failed as expected:", exc)
        # Each address tried has its own error, attached as the cause.
        assert isinstance(exc.__cause__, ExceptionGroup)
        for error in exc.__cause__.exceptions:
            print("   ", error)
            assert isinstance(error, ConnectionRefusedError)
    else:
        raise AssertionError("connected to a closed port")


async def main() -> None:
    await serve_and_ask()
    await listeners_by_hand()
    await connection_refused()


if __name__ == "__main__":
    nursery.run(main)
