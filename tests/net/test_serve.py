"""serve_listeners and serve_tcp: fake listeners for the accept loop's rules (handler
tasks, closing, capacity errors and their retry), real loopback for serve_tcp."""

from __future__ import annotations

import errno
import logging
from typing import Any

import pytest

import nursery
from nursery import open_tcp_stream, serve_listeners, serve_tcp
from nursery.abc import AsyncResource, Listener
from nursery.testing import MockClock, wait_all_tasks_blocked


class FakeStream(AsyncResource):
    def __init__(self, name: str) -> None:
        self.name = name
        self.closed = False

    async def aclose(self) -> None:
        self.closed = True
        await nursery.lowlevel.checkpoint()


class FakeListener(Listener[FakeStream]):
    """accept() hands out whatever is sent on ``incoming``: a stream, or an exception
    to raise."""

    def __init__(self) -> None:
        self.incoming, self._queue = nursery.open_memory_channel[FakeStream | Exception](100)
        self.closed = False
        self.accepts = 0

    async def accept(self) -> FakeStream:
        item = await self._queue.receive()
        self.accepts += 1
        if isinstance(item, Exception):
            raise item
        return item

    async def aclose(self) -> None:
        self.closed = True
        await nursery.lowlevel.checkpoint()


async def test_every_connection_gets_a_handler_and_is_closed() -> None:
    served: list[str] = []

    async def handler(stream: FakeStream) -> None:
        served.append(stream.name)

    listeners = [FakeListener(), FakeListener()]
    streams = [FakeStream(f"s{i}") for i in range(6)]
    async with nursery.open_nursery() as n:
        reported = await n.start(serve_listeners, handler, listeners)
        assert reported is listeners
        for i, stream in enumerate(streams):
            listeners[i % 2].incoming.send_nowait(stream)
        await wait_all_tasks_blocked()
        n.cancel_scope.cancel()
    assert sorted(served) == [s.name for s in streams]
    assert all(stream.closed for stream in streams)
    # serve_listeners closes its listeners when it stops
    assert all(listener.closed for listener in listeners)


async def test_stream_closed_when_the_handler_raises() -> None:
    stream = FakeStream("s")

    async def handler(stream: FakeStream) -> None:
        raise RuntimeError("handler failed")

    listener = FakeListener()
    with pytest.RaisesGroup(pytest.RaisesGroup(RuntimeError)):
        async with nursery.open_nursery() as n:
            await n.start(serve_listeners, handler, [listener])
            listener.incoming.send_nowait(stream)
    assert stream.closed and listener.closed


async def test_stream_closed_when_the_handler_is_cancelled() -> None:
    stream = FakeStream("s")
    started = nursery.Event()

    async def handler(stream: FakeStream) -> None:
        started.set()
        await nursery.sleep_forever()

    listener = FakeListener()
    async with nursery.open_nursery() as n:
        await n.start(serve_listeners, handler, [listener])
        listener.incoming.send_nowait(stream)
        await started.wait()
        assert not stream.closed
        n.cancel_scope.cancel()
    assert stream.closed


async def test_handlers_run_in_the_given_nursery() -> None:
    seen: list[Any] = []

    async def handler(stream: FakeStream) -> None:
        seen.append(nursery.lowlevel.current_task().parent_nursery)
        await nursery.sleep_forever()

    listener = FakeListener()
    async with nursery.open_nursery() as handlers:
        async with nursery.open_nursery() as n:
            await n.start(
                lambda task_status: serve_listeners(
                    handler, [listener], handler_nursery=handlers, task_status=task_status
                )
            )
            listener.incoming.send_nowait(FakeStream("s"))
            await wait_all_tasks_blocked()
            assert seen == [handlers]
            # Stopping the server does not stop the handlers of another nursery.
            n.cancel_scope.cancel()
        assert listener.closed
        await wait_all_tasks_blocked()
        handlers.cancel_scope.cancel()
    assert len(seen) == 1


@pytest.mark.parametrize("code", [errno.EMFILE, errno.ENFILE, errno.ENOMEM, errno.ENOBUFS])
async def test_capacity_errors_are_logged_and_retried(
    code: int, autojump_clock: MockClock, caplog: pytest.LogCaptureFixture
) -> None:
    served: list[tuple[str, float]] = []

    async def handler(stream: FakeStream) -> None:
        served.append((stream.name, nursery.current_time()))

    listener = FakeListener()
    listener.incoming.send_nowait(OSError(code, "out of something (pretend)"))
    listener.incoming.send_nowait(OSError(code, "out of something (pretend)"))
    listener.incoming.send_nowait(FakeStream("after"))
    caplog.set_level(logging.ERROR, logger="nursery.serve_listeners")
    async with nursery.open_nursery() as n:
        start = nursery.current_time()
        await n.start(serve_listeners, handler, [listener])
        while not served:
            await nursery.sleep(0.01)
        n.cancel_scope.cancel()
    # two retries, 100 ms apart, then the connection was served
    assert served == [("after", pytest.approx(start + 0.2))]
    records = [r for r in caplog.records if r.name == "nursery.serve_listeners"]
    assert len(records) == 2
    assert all(r.levelno == logging.ERROR and r.exc_info for r in records)
    assert errno.errorcode[code] in records[0].getMessage()


async def test_other_accept_errors_propagate() -> None:
    async def handler(stream: FakeStream) -> None:
        raise AssertionError("not reached")

    listener = FakeListener()
    listener.incoming.send_nowait(OSError(errno.EBADF, "bad (pretend)"))
    with pytest.RaisesGroup(pytest.RaisesGroup(OSError)):
        async with nursery.open_nursery() as n:
            await n.start(serve_listeners, handler, [listener])
    assert listener.closed


async def test_bad_arguments() -> None:
    async def handler(stream: FakeStream) -> None:
        pass

    with pytest.raises(ValueError, match="at least one listener"):
        await serve_listeners(handler, [])
    with pytest.raises(TypeError, match="handler_nursery"):
        await serve_listeners(handler, [FakeListener()], handler_nursery=object())  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="port"):
        await serve_tcp(handler, "80")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="handler_nursery"):
        await serve_tcp(handler, 0, handler_nursery=object())  # type: ignore[arg-type]


async def test_a_generator_of_listeners() -> None:
    async def handler(stream: FakeStream) -> None:
        pass

    listener = FakeListener()
    async with nursery.open_nursery() as n:
        reported = await n.start(serve_listeners, handler, (x for x in [listener]))
        assert reported == [listener]
        n.cancel_scope.cancel()


# -- serve_tcp over loopback -------------------------------------------------------------


async def echo(stream: nursery.SocketStream) -> None:
    async for chunk in stream:
        await stream.send_all(chunk)


async def test_serve_tcp_echo() -> None:
    async with nursery.open_nursery() as n:
        listeners = await n.start(serve_tcp, echo, 0)
        assert all(isinstance(listener, nursery.SocketListener) for listener in listeners)
        port = next(
            listener.socket.getsockname()[1]
            for listener in listeners
            if listener.socket.family == nursery.socket.AF_INET
        )
        for message in [b"hello", b"world"]:
            async with await open_tcp_stream("127.0.0.1", port) as client:
                await client.send_all(message)
                assert await client.receive_some() == message
        n.cancel_scope.cancel()
    assert all(listener.socket.fileno() == -1 for listener in listeners)


async def test_serve_tcp_with_host_and_backlog() -> None:
    async with nursery.open_nursery() as n:
        (listener,) = await n.start(
            lambda task_status: serve_tcp(
                echo, 0, host="127.0.0.1", backlog=5, task_status=task_status
            )
        )
        host, port = listener.socket.getsockname()
        assert host == "127.0.0.1"
        async with await open_tcp_stream(host, port) as client:
            await client.send_all(b"ping")
            assert await client.receive_some() == b"ping"
        n.cancel_scope.cancel()
