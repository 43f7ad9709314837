"""MemorySendStream, MemoryReceiveStream, the pump, and the memory stream pairs."""

from __future__ import annotations

import pytest

import nursery
import nursery.testing
from nursery.testing import (
    MemoryReceiveStream,
    MemorySendStream,
    assert_checkpoints,
    memory_stream_one_way_pair,
    memory_stream_pair,
    memory_stream_pump,
    wait_all_tasks_blocked,
)


async def test_send_stream_buffers_and_get_data() -> None:
    stream = MemorySendStream()
    await stream.send_all(b"abc")
    await stream.send_all(bytearray(b"de"))
    await stream.send_all(memoryview(b"f"))
    assert stream.get_data_nowait(2) == b"ab"
    assert await stream.get_data() == b"cdef"
    with pytest.raises(nursery.WouldBlock):
        stream.get_data_nowait()
    await stream.wait_send_all_might_not_block()
    await stream.aclose()
    assert stream.get_data_nowait() == b""  # closed and drained: the end
    assert await stream.get_data() == b""
    with pytest.raises(nursery.ClosedResourceError):
        await stream.send_all(b"x")
    with pytest.raises(nursery.ClosedResourceError):
        await stream.wait_send_all_might_not_block()
    await stream.aclose()  # again: nothing happens


async def test_send_stream_data_survives_close() -> None:
    stream = MemorySendStream()
    await stream.send_all(b"last words")
    stream.close()
    assert stream.get_data_nowait() == b"last words"
    assert stream.get_data_nowait() == b""


async def test_get_data_waits_and_is_cancellable() -> None:
    stream = MemorySendStream()
    got: list[bytes] = []

    async def reader() -> None:
        got.append(await stream.get_data())

    async with nursery.open_nursery() as n:
        n.start_soon(reader)
        await wait_all_tasks_blocked()
        with pytest.raises(nursery.BusyResourceError):
            await stream.get_data()
        with pytest.raises(nursery.BusyResourceError):
            stream.get_data_nowait()
        await stream.send_all(b"wake")
    assert got == [b"wake"]

    with nursery.move_on_after(1) as scope:
        scope.cancel()
        await stream.get_data()
    assert scope.cancelled_caught
    await stream.send_all(b"kept")  # the cancelled get took nothing
    assert stream.get_data_nowait() == b"kept"


@pytest.mark.parametrize("bad", [0, -1])
async def test_max_bytes_must_be_positive(bad: int) -> None:
    send = MemorySendStream()
    receive = MemoryReceiveStream()
    receive.put_data(b"data")
    with pytest.raises(ValueError, match="max_bytes"):
        send.get_data_nowait(bad)
    with pytest.raises(ValueError, match="max_bytes"):
        await send.get_data(bad)
    with pytest.raises(ValueError, match="max_bytes"):
        await receive.receive_some(bad)
    assert await receive.receive_some() == b"data"  # nothing was consumed


async def test_max_bytes_must_be_an_int() -> None:
    receive = MemoryReceiveStream()
    with pytest.raises(TypeError, match="max_bytes"):
        await receive.receive_some(1.5)  # type: ignore[arg-type]


async def test_send_stream_hooks() -> None:
    log: list[str] = []

    async def send_all_hook() -> None:
        log.append("send_all")

    async def wait_hook() -> None:
        log.append("wait")

    stream = MemorySendStream(send_all_hook, wait_hook, lambda: log.append("close"))
    await stream.send_all(b"x")
    await stream.wait_send_all_might_not_block()
    await stream.aclose()
    stream.close()
    assert log == ["send_all", "wait", "close", "close"]
    # Hooks are attributes, changeable at any time.
    stream.close_hook = None
    stream.close()
    assert log[-1] == "close" and len(log) == 4


async def test_send_all_cancelled_before_sending_sends_nothing() -> None:
    stream = MemorySendStream()
    with nursery.CancelScope() as scope:
        scope.cancel()
        await stream.send_all(b"lost")
    with pytest.raises(nursery.WouldBlock):
        stream.get_data_nowait()


async def test_concurrent_send_is_busy() -> None:
    async def slow_hook() -> None:
        await nursery.sleep_forever()

    stream = MemorySendStream(send_all_hook=slow_hook)
    async with nursery.open_nursery() as n:
        n.start_soon(stream.send_all, b"first")
        await wait_all_tasks_blocked()
        with pytest.raises(nursery.BusyResourceError):
            await stream.send_all(b"second")
        with pytest.raises(nursery.BusyResourceError):
            await stream.wait_send_all_might_not_block()
        n.cancel_scope.cancel()
    assert stream.get_data_nowait() == b"first"


async def test_receive_stream_put_data_and_eof() -> None:
    stream = MemoryReceiveStream()
    stream.put_data(b"hello ")
    stream.put_data(b"world")
    assert await stream.receive_some(3) == b"hel"
    assert await stream.receive_some() == b"lo world"
    stream.put_eof()
    assert await stream.receive_some() == b""
    assert await stream.receive_some() == b""
    with pytest.raises(nursery.ClosedResourceError):
        stream.put_data(b"late")
    await stream.aclose()
    with pytest.raises(nursery.ClosedResourceError):
        await stream.receive_some()


async def test_receive_stream_hooks_and_close_discards() -> None:
    log: list[str] = []
    stream = MemoryReceiveStream()

    async def receive_hook() -> None:
        log.append("receive")
        stream.put_data(b"from the hook")

    stream.receive_some_hook = receive_hook
    stream.close_hook = lambda: log.append("close")
    assert await stream.receive_some() == b"from the hook"
    stream.put_data(b"never read")
    stream.close()
    assert log == ["receive", "close"]
    with pytest.raises(nursery.ClosedResourceError):
        await stream.receive_some()
    with pytest.raises(nursery.ClosedResourceError):
        stream.put_data(b"x")


async def test_close_wakes_blocked_receiver() -> None:
    stream = MemoryReceiveStream()

    async def receiver() -> None:
        with pytest.raises(nursery.ClosedResourceError):
            await stream.receive_some()

    async with nursery.open_nursery() as n:
        n.start_soon(receiver)
        await wait_all_tasks_blocked()
        with pytest.raises(nursery.BusyResourceError):
            await stream.receive_some()
        await stream.aclose()


async def test_cancelled_receive_takes_nothing() -> None:
    stream = MemoryReceiveStream()
    with nursery.move_on_after(1) as scope:
        async with nursery.open_nursery() as n:
            n.start_soon(stream.receive_some)
            await wait_all_tasks_blocked()
            scope.cancel()
    stream.put_data(b"still here")
    assert await stream.receive_some() == b"still here"


async def test_pump() -> None:
    send = MemorySendStream()
    receive = MemoryReceiveStream()
    assert not memory_stream_pump(send, receive)  # nothing to move
    await send.send_all(b"abcdef")
    assert memory_stream_pump(send, receive, max_bytes=4)
    assert await receive.receive_some() == b"abcd"
    assert memory_stream_pump(send, receive)
    assert await receive.receive_some() == b"ef"
    send.close()
    assert memory_stream_pump(send, receive)  # the end is passed on
    assert await receive.receive_some() == b""


async def test_pump_into_a_closed_receiver_is_broken() -> None:
    send = MemorySendStream()
    receive = MemoryReceiveStream()
    receive.close()
    await send.send_all(b"x")
    with pytest.raises(nursery.BrokenResourceError):
        memory_stream_pump(send, receive)


async def test_one_way_pair_flows_at_once_and_manual_pumping() -> None:
    send, receive = memory_stream_one_way_pair()
    await send.send_all(b"instant")
    assert receive._incoming._data == bytearray(b"instant")  # already there
    assert await receive.receive_some() == b"instant"

    # Clear the hook and the test decides when data moves.
    send.send_all_hook = None
    await send.send_all(b"held back")
    with nursery.move_on_after(1) as scope:
        scope.cancel()
        await receive.receive_some()
    memory_stream_pump(send, receive, max_bytes=4)
    assert await receive.receive_some() == b"held"

    # Closing the sender passes the end through the close hook.
    send.send_all_hook = None
    memory_stream_pump(send, receive)
    await send.aclose()
    assert await receive.receive_some() == b" back"
    assert await receive.receive_some() == b""


async def test_one_way_pair_receiver_closed_breaks_sender() -> None:
    send, receive = memory_stream_one_way_pair()
    await receive.aclose()
    with pytest.raises(nursery.BrokenResourceError):
        await send.send_all(b"nobody listens")
    await send.aclose()  # still closes cleanly


async def test_pair_is_two_way_with_send_eof() -> None:
    left, right = memory_stream_pair()
    await left.send_all(b"ping")
    assert await right.receive_some() == b"ping"
    await right.send_all(b"pong")
    assert await left.receive_some() == b"pong"
    await left.send_eof()
    assert await right.receive_some() == b""
    await right.send_all(b"still open this way")
    assert await left.receive_some() == b"still open this way"
    with pytest.raises(nursery.ClosedResourceError):
        await left.send_all(b"x")
    assert isinstance(left.send_stream, MemorySendStream)
    assert isinstance(left.receive_stream, MemoryReceiveStream)


async def test_operations_are_checkpoints() -> None:
    left, right = memory_stream_pair()
    with assert_checkpoints():
        await left.send_all(b"x")
    with assert_checkpoints():
        await right.receive_some()
    with assert_checkpoints():
        await left.wait_send_all_might_not_block()
    with assert_checkpoints():
        await left.aclose()
