"""A TCP proxy with a per-connection idle timeout, shown end to end on loopback: an
echo server upstream, the proxy in front of it, and clients that talk, pause, and go
quiet. The timeout is a cancel scope whose deadline every chunk pushes back."""

import time
from collections.abc import Callable
from functools import partial

import nursery

IDLE_SECONDS = 0.5
idle_closed = 0  # connections the proxy closed for idleness


async def echo(stream: nursery.SocketStream) -> None:
    async for chunk in stream:
        await stream.send_all(chunk)


async def pipe(
    source: nursery.SocketStream, sink: nursery.SocketStream, on_data: Callable[[], None]
) -> None:
    # Copy one direction until its end of stream, then pass the end on.
    async for chunk in source:
        on_data()
        await sink.send_all(chunk)
    await sink.send_eof()


def push_back(idle: nursery.CancelScope) -> None:
    idle.deadline = nursery.current_time() + IDLE_SECONDS


async def proxy(upstream_port: int, client: nursery.SocketStream) -> None:
    global idle_closed
    async with await nursery.open_tcp_stream("127.0.0.1", upstream_port) as upstream:
        # Cancelled (both pipes at once) when no data went either way for
        # IDLE_SECONDS: each chunk moves the deadline later.
        with nursery.move_on_after(IDLE_SECONDS) as idle:
            async with nursery.open_nursery() as pipes:
                pipes.start_soon(pipe, client, upstream, partial(push_back, idle))
                pipes.start_soon(pipe, upstream, client, partial(push_back, idle))
        if idle.cancelled_caught:
            idle_closed += 1
    # Returning closes the client's stream too (serve_tcp does that).


async def chatty_client(port: int) -> None:
    # Pauses shorter than the timeout: the connection stays up throughout.
    async with await nursery.open_tcp_stream("127.0.0.1", port) as stream:
        for i in range(4):
            await stream.send_all(b"message %d" % i)
            assert await stream.receive_some() == b"message %d" % i
            await nursery.sleep(IDLE_SECONDS / 5)  # well within the timeout
        await stream.send_eof()
        assert await stream.receive_some() == b""  # a clean end, passed through
    print("chatty client: 4 echoes through the proxy, then a clean close")


async def quiet_client(port: int) -> None:
    async with await nursery.open_tcp_stream("127.0.0.1", port) as stream:
        await stream.send_all(b"anyone there?")
        assert await stream.receive_some() == b"anyone there?"
        started = time.monotonic()
        # Say nothing more: the proxy hangs up after IDLE_SECONDS.
        assert await stream.receive_some() == b""
        waited = time.monotonic() - started
    print(f"quiet client: closed by the proxy after {waited:.1f}s of silence")
    assert waited >= IDLE_SECONDS * 0.9


async def main() -> None:
    async with nursery.open_nursery() as servers:
        (upstream,) = await servers.start(partial(nursery.serve_tcp, echo, 0, host="127.0.0.1"))
        upstream_port = upstream.socket.getsockname()[1]
        (front,) = await servers.start(
            partial(nursery.serve_tcp, partial(proxy, upstream_port), 0, host="127.0.0.1")
        )
        proxy_port = front.socket.getsockname()[1]

        async with nursery.open_nursery() as clients:
            clients.start_soon(chatty_client, proxy_port)
            clients.start_soon(quiet_client, proxy_port)

        servers.cancel_scope.cancel()
    print("connections closed for idleness:", idle_closed)
    assert idle_closed == 1


if __name__ == "__main__":
    nursery.run(main)
