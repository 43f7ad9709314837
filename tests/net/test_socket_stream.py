"""SocketStream and SocketListener, over socketpairs and real loopback TCP."""

from __future__ import annotations

import errno
import socket as stdlib_socket
from typing import Any

import pytest
from net_helpers import fill_send_buffer, needs_ipv6, tcp_listener, tcp_pair

import nursery
import nursery.socket as nsocket
from nursery import SocketListener, SocketStream
from nursery.testing import MockClock, assert_checkpoints, wait_all_tasks_blocked


def stream_pair() -> tuple[SocketStream, SocketStream]:
    a, b = nsocket.socketpair()
    return SocketStream(a), SocketStream(b)


async def receive_exactly(stream: SocketStream, count: int) -> bytes:
    data = bytearray()
    while len(data) < count:
        chunk = await stream.receive_some()
        assert chunk, "unexpected end of stream"
        data += chunk
    return bytes(data)


# -- construction ------------------------------------------------------------------------


async def test_constructor_checks_the_socket() -> None:
    with stdlib_socket.socket() as raw, pytest.raises(TypeError, match="SocketType"):
        SocketStream(raw)  # type: ignore[arg-type]
    with nsocket.socket(type=nsocket.SOCK_DGRAM) as udp:
        with pytest.raises(ValueError, match="SOCK_STREAM"):
            SocketStream(udp)
        with pytest.raises(ValueError, match="SOCK_STREAM"):
            SocketListener(udp)
    with pytest.raises(TypeError, match="SocketType"):
        SocketListener("nope")  # type: ignore[arg-type]
    with nsocket.socket() as not_listening:
        with pytest.raises(ValueError, match="listening"):
            SocketListener(not_listening)


async def test_tcp_nodelay_is_on_for_tcp() -> None:
    client, server = await tcp_pair()
    async with SocketStream(client) as stream, SocketStream(server):
        assert stream.getsockopt(nsocket.IPPROTO_TCP, nsocket.TCP_NODELAY)
        assert stream.socket is client
        stream.setsockopt(nsocket.IPPROTO_TCP, nsocket.TCP_NODELAY, False)
        assert not stream.getsockopt(nsocket.IPPROTO_TCP, nsocket.TCP_NODELAY)
        raw = stream.getsockopt(nsocket.IPPROTO_TCP, nsocket.TCP_NODELAY, 4)
        assert raw == b"\0\0\0\0"
        with pytest.raises(TypeError, match="value"):
            stream.setsockopt(nsocket.IPPROTO_TCP, nsocket.TCP_NODELAY, None)  # type: ignore[call-overload]
        with pytest.raises(TypeError, match="value"):
            stream.setsockopt(nsocket.IPPROTO_TCP, nsocket.TCP_NODELAY, 1, 4)  # type: ignore[call-overload]
        stream.setsockopt(nsocket.SOL_SOCKET, nsocket.SO_BINDTODEVICE, None, 0)


# -- sending and receiving ---------------------------------------------------------------


async def test_send_all_and_receive_some_over_a_socketpair() -> None:
    left, right = stream_pair()
    async with left, right:
        with assert_checkpoints():
            await left.send_all(b"hello")
        with assert_checkpoints():
            assert await right.receive_some() == b"hello"
        await left.send_all(bytearray(b"abcdef"))
        assert await right.receive_some(2) == b"ab"
        assert await right.receive_some(100) == b"cdef"
        await left.send_all(memoryview(b"view"))
        assert await right.receive_some() == b"view"
        # A buffer of wider items is sent as its bytes.
        await left.send_all(memoryview(bytes(range(8))).cast("I"))
        assert await receive_exactly(right, 8) == bytes(range(8))
        with assert_checkpoints():
            await left.send_all(b"")  # nothing to send: still a checkpoint
        with pytest.raises(TypeError):
            await left.send_all("text")  # type: ignore[arg-type]


async def test_receive_some_rejects_bad_max_bytes() -> None:
    left, right = stream_pair()
    async with left, right:
        for bad in (0, -1):
            with pytest.raises(ValueError, match="max_bytes"):
                await right.receive_some(bad)


async def test_send_all_waits_until_the_kernel_took_everything() -> None:
    left, right = stream_pair()
    async with left, right:
        payload = bytes(range(256)) * 8192  # 2 MiB: far more than the socket buffers
        done = nursery.Event()

        async def sender() -> None:
            await left.send_all(payload)
            done.set()

        async with nursery.open_nursery() as n:
            n.start_soon(sender)
            await wait_all_tasks_blocked()
            assert not done.is_set()  # blocked: the peer is not reading
            received = await receive_exactly(right, len(payload))
        assert received == payload
        assert done.is_set()


async def test_wait_send_all_might_not_block() -> None:
    left, right = stream_pair()
    async with left, right:
        with assert_checkpoints():
            await left.wait_send_all_might_not_block()
        await fill_send_buffer(left.socket)
        ready = nursery.Event()

        async def waiter() -> None:
            await left.wait_send_all_might_not_block()
            ready.set()

        async with nursery.open_nursery() as n:
            n.start_soon(waiter)
            await wait_all_tasks_blocked()
            assert not ready.is_set()
            while not ready.is_set():
                await right.receive_some()
                await wait_all_tasks_blocked()


async def test_send_eof() -> None:
    client, server = await tcp_pair()
    async with SocketStream(client) as a, SocketStream(server) as b:
        await a.send_all(b"last words")
        with assert_checkpoints():
            await a.send_eof()
        await a.send_eof()  # idempotent
        assert await receive_exactly(b, 10) == b"last words"
        assert await b.receive_some() == b""
        assert await b.receive_some() == b""
        with pytest.raises(nursery.ClosedResourceError):
            await a.send_all(b"more")
        # The other direction still works.
        await b.send_all(b"reply")
        assert await a.receive_some() == b"reply"


async def test_async_iteration_ends_at_eof() -> None:
    left, right = stream_pair()
    async with left, right:
        await left.send_all(b"chunk")
        await left.send_eof()
        chunks = [chunk async for chunk in right]
        assert b"".join(chunks) == b"chunk"


async def test_operations_after_aclose_raise_closed_resource_error() -> None:
    left, right = stream_pair()
    await right.aclose()
    with assert_checkpoints():
        await left.aclose()
    await left.aclose()  # closing twice is fine
    assert left.socket.fileno() == -1
    with pytest.raises(nursery.ClosedResourceError):
        await left.send_all(b"x")
    with pytest.raises(nursery.ClosedResourceError):
        await left.send_all(b"")
    with pytest.raises(nursery.ClosedResourceError):
        await left.receive_some()
    with pytest.raises(nursery.ClosedResourceError):
        await left.wait_send_all_might_not_block()
    with pytest.raises(nursery.ClosedResourceError):
        await left.send_eof()


async def test_aclose_in_a_cancelled_scope_still_closes() -> None:
    left, right = stream_pair()
    with nursery.CancelScope() as scope:
        scope.cancel()
        await left.aclose()
    assert left.socket.fileno() == -1
    await right.aclose()


async def test_closing_wakes_a_blocked_receiver() -> None:
    left, right = stream_pair()
    async with left:

        async def receiver() -> None:
            with pytest.raises(nursery.ClosedResourceError):
                await right.receive_some()

        async with nursery.open_nursery() as n:
            n.start_soon(receiver)
            await wait_all_tasks_blocked()
            await right.aclose()


async def test_broken_pipe_is_broken_resource_error() -> None:
    left, right = stream_pair()
    await right.aclose()
    async with left:
        with pytest.raises(nursery.BrokenResourceError) as info:
            await left.send_all(b"nobody is listening")
        assert isinstance(info.value.__cause__, OSError)
        assert info.value.__cause__.errno == errno.EPIPE


async def test_connection_reset_is_broken_resource_error() -> None:
    client, server = await tcp_pair()
    # SO_LINGER with a zero timeout: close() sends RST instead of FIN.
    server.setsockopt(nsocket.SOL_SOCKET, nsocket.SO_LINGER, b"\1\0\0\0\0\0\0\0")
    server.close()
    async with SocketStream(client) as stream:
        with pytest.raises(nursery.BrokenResourceError) as info:
            await stream.receive_some()
        assert isinstance(info.value.__cause__, ConnectionResetError)


async def test_concurrent_use_is_busy() -> None:
    left, right = stream_pair()
    async with left, right:
        async with nursery.open_nursery() as n:
            n.start_soon(right.receive_some)
            await wait_all_tasks_blocked()
            with pytest.raises(nursery.BusyResourceError):
                await right.receive_some()
            await left.send_all(b"x")

        await fill_send_buffer(left.socket)
        async with nursery.open_nursery() as n:
            n.start_soon(left.send_all, b"y" * 100_000)
            await wait_all_tasks_blocked()
            with pytest.raises(nursery.BusyResourceError):
                await left.send_all(b"z")
            with pytest.raises(nursery.BusyResourceError):
                await left.wait_send_all_might_not_block()
            with pytest.raises(nursery.BusyResourceError):
                await left.send_eof()
            n.cancel_scope.cancel()


async def test_cancelled_receive_loses_nothing(autojump_clock: MockClock) -> None:
    left, right = stream_pair()
    async with left, right:
        with nursery.move_on_after(1) as scope:
            await right.receive_some()
        assert scope.cancelled_caught
        await left.send_all(b"still here")
        assert await right.receive_some() == b"still here"


async def test_tcp_echo_over_loopback() -> None:
    async def echo(stream: SocketStream) -> None:
        async with stream:
            async for chunk in stream:
                await stream.send_all(chunk)

    with await tcp_listener() as sock:
        listener = SocketListener(sock)
        address = sock.getsockname()
        async with nursery.open_nursery() as n:

            async def serve_one() -> None:
                with assert_checkpoints():
                    stream = await listener.accept()
                await echo(stream)

            n.start_soon(serve_one)
            client = nsocket.socket()
            await client.connect(address)
            async with SocketStream(client) as stream:
                for size in (1, 1000, 200_000):
                    message = bytes(size % 251 for size in range(size))
                    await stream.send_all(message)
                    assert await receive_exactly(stream, size) == message
                await stream.send_eof()
                assert await stream.receive_some() == b""
        await listener.aclose()


@needs_ipv6
async def test_ipv6_stream() -> None:
    client, server = await tcp_pair(nsocket.AF_INET6)
    async with SocketStream(client) as a, SocketStream(server) as b:
        await a.send_all(b"over ::1")
        assert await receive_exactly(b, 8) == b"over ::1"


# -- the listener ------------------------------------------------------------------------


class ScriptedListenerSocket(nsocket.SocketType):
    """A fake listening socket whose accept() replays a script of errors first."""

    def __init__(self, real: nsocket.SocketType, errors: list[OSError]) -> None:
        self.real = real
        self.errors = errors

    @property
    def type(self) -> stdlib_socket.SocketKind:
        return self.real.type

    def getsockopt(self, *args: Any) -> Any:
        return self.real.getsockopt(*args)

    async def accept(self) -> tuple[nsocket.SocketType, Any]:
        await nursery.lowlevel.checkpoint()
        if self.errors:
            raise self.errors.pop(0)
        return await self.real.accept()

    def close(self) -> None:
        self.real.close()


async def test_listener_skips_transient_accept_errors() -> None:
    with await tcp_listener() as sock:
        transient = [OSError(code, "transient") for code in (errno.ECONNABORTED, errno.EPROTO)]
        transient.append(OSError(errno.EPERM, "firewall"))
        fake = ScriptedListenerSocket(sock, transient)
        listener = SocketListener(fake)
        client = nsocket.socket()
        async with nursery.open_nursery() as n:
            n.start_soon(client.connect, sock.getsockname())
            stream = await listener.accept()
        assert fake.errors == []
        await stream.aclose()
        client.close()


async def test_listener_raises_other_accept_errors() -> None:
    with await tcp_listener() as sock:
        fake = ScriptedListenerSocket(sock, [OSError(errno.EMFILE, "out of fds")])
        listener = SocketListener(fake)
        with pytest.raises(OSError) as info:
            await listener.accept()
        assert info.value.errno == errno.EMFILE
        fake.errors.append(OSError(errno.EBADF, "closed"))
        with pytest.raises(nursery.ClosedResourceError):
            await listener.accept()


async def test_listener_close_and_busy(autojump_clock: MockClock) -> None:
    listener = SocketListener(await tcp_listener())
    async with nursery.open_nursery() as n:

        async def accepter() -> None:
            with pytest.raises(nursery.ClosedResourceError):
                await listener.accept()

        n.start_soon(accepter)
        await wait_all_tasks_blocked()
        with pytest.raises(nursery.BusyResourceError):
            await listener.accept()
        with assert_checkpoints():
            await listener.aclose()
    with pytest.raises(nursery.ClosedResourceError):
        await listener.accept()
    await listener.aclose()


# -- conformance -------------------------------------------------------------------------


async def test_half_closeable_stream_conformance_over_tcp() -> None:
    # (Over a socketpair, clogged and not, in tests/streams/test_check_socket_streams.py.)
    from nursery.testing import check_half_closeable_stream

    async def tcp_stream_pair() -> tuple[SocketStream, SocketStream]:
        client, server = await tcp_pair()
        return SocketStream(client), SocketStream(server)

    await check_half_closeable_stream(tcp_stream_pair, None)


async def test_send_all_leaves_a_bytearray_resizable() -> None:
    left, right = stream_pair()
    async with left, right:
        data = bytearray(300_000)

        async def sender() -> None:
            await left.send_all(data)

        async with nursery.open_nursery() as n:
            n.start_soon(sender)
            await receive_exactly(right, len(data))
        data += bytes(300_000)  # BufferError if a view of it were still alive
        await left.send_all(memoryview(bytearray(8)).cast("Q"))
        assert await receive_exactly(right, 8) == bytes(8)


async def test_receive_after_the_peer_closed() -> None:
    a, b = nsocket.socketpair()
    await b.send(b"x")
    b.close()
    async with SocketStream(a) as stream:
        assert await stream.receive_some(1) == b"x"
        assert await stream.receive_some(1) == b""


async def test_listener_socket_closed_underfoot() -> None:
    sock = await tcp_listener()
    listener = SocketListener(sock)
    sock.close()
    with assert_checkpoints(), pytest.raises(nursery.ClosedResourceError):
        await listener.accept()


class FakeListeningSocket(nsocket.SocketType):
    """A fake in the style Trio's own tests use: class attributes, no super().__init__."""

    type = nsocket.SOCK_STREAM

    def __init__(self, events: list[object]) -> None:
        self._events = iter(events)

    def getsockopt(self, *args: Any) -> Any:
        return True  # passes the SO_ACCEPTCONN check

    def setsockopt(self, *args: Any) -> None:
        pass

    async def accept(self) -> tuple[nsocket.SocketType, Any]:
        await nursery.lowlevel.checkpoint()
        event = next(self._events)
        if isinstance(event, BaseException):
            raise event
        assert isinstance(event, nsocket.SocketType)
        return event, None


async def test_listener_with_a_fake_socket() -> None:
    server_side = FakeListeningSocket([])
    listener = SocketListener(
        FakeListeningSocket(
            [
                OSError(errno.ECONNABORTED, "aborted"),
                server_side,
                OSError(errno.ENOBUFS, "out of buffers"),
                OSError(errno.EFAULT, "bad address"),
            ]
        )
    )
    with assert_checkpoints():
        stream = await listener.accept()
    assert stream.socket is server_side
    for code in (errno.ENOBUFS, errno.EFAULT):
        with assert_checkpoints(), pytest.raises(OSError) as info:
            await listener.accept()
        assert info.value.errno == code
