"""FdStream: a byte stream over a pipe (or terminal) file descriptor."""

from __future__ import annotations

import contextlib
import gc
import os
import socket
from collections.abc import Iterator

import pytest

import nursery
from nursery.lowlevel import FdStream
from nursery.testing import (
    assert_checkpoints,
    check_one_way_stream,
    check_two_way_stream,
    wait_all_tasks_blocked,
)


def _fd_is_open(fd: int) -> bool:
    try:
        os.fstat(fd)
    except OSError:
        return False
    return True


@pytest.fixture
def pipe() -> Iterator[tuple[FdStream, FdStream]]:
    """(writer, reader) over a fresh pipe; both closed afterwards."""
    read_end, write_end = os.pipe()
    writer, reader = FdStream(write_end), FdStream(read_end)
    yield writer, reader
    writer.close()
    reader.close()


async def test_bytes_go_through_in_order(pipe: tuple[FdStream, FdStream]) -> None:
    writer, reader = pipe
    await writer.send_all(b"hello ")
    await writer.send_all(bytearray(b"pipe"))
    await writer.send_all(memoryview(b"!"))
    received = b""
    while len(received) < 11:
        received += await reader.receive_some()
    assert received == b"hello pipe!"


async def test_more_than_the_pipe_holds_needs_a_reader(pipe: tuple[FdStream, FdStream]) -> None:
    writer, reader = pipe
    data = os.urandom(1 << 20)  # 16 pipe buffers
    received = bytearray()

    async def read_all() -> None:
        while len(received) < len(data):
            received.extend(await reader.receive_some(10_000))

    async with nursery.open_nursery() as n:
        n.start_soon(read_all)
        await writer.send_all(data)
    assert received == data


async def test_end_of_file_is_empty_bytes_every_time(pipe: tuple[FdStream, FdStream]) -> None:
    writer, reader = pipe
    await writer.send_all(b"last")
    await writer.aclose()
    assert await reader.receive_some() == b"last"
    assert await reader.receive_some() == b""
    assert await reader.receive_some() == b""


async def test_async_iteration_stops_at_end_of_file(pipe: tuple[FdStream, FdStream]) -> None:
    writer, reader = pipe
    await writer.send_all(b"abc")
    writer.close()
    assert [chunk async for chunk in reader] == [b"abc"]


async def test_max_bytes_limits_one_read(pipe: tuple[FdStream, FdStream]) -> None:
    writer, reader = pipe
    await writer.send_all(b"abcdef")
    assert await reader.receive_some(4) == b"abcd"
    assert await reader.receive_some(4) == b"ef"


async def test_writing_to_a_pipe_nobody_reads_is_broken(pipe: tuple[FdStream, FdStream]) -> None:
    writer, reader = pipe
    await reader.aclose()
    with pytest.raises(nursery.BrokenResourceError):
        await writer.send_all(b"anyone?")


async def test_a_writer_blocked_on_a_full_pipe_breaks_when_the_reader_goes(
    pipe: tuple[FdStream, FdStream],
) -> None:
    writer, reader = pipe

    async def close_reader_later() -> None:
        await wait_all_tasks_blocked()
        reader.close()

    async with nursery.open_nursery() as n:
        n.start_soon(close_reader_later)
        with pytest.raises(nursery.BrokenResourceError):
            await writer.send_all(b"x" * (1 << 20))


@pytest.mark.parametrize("operation", ["receive_some", "send_all", "wait_send_all"])
async def test_closing_wakes_a_blocked_task_with_closed_resource_error(
    pipe: tuple[FdStream, FdStream], operation: str
) -> None:
    writer, reader = pipe
    if operation != "receive_some":
        os.write(writer.fileno(), b"x" * (1 << 16))  # fill the pipe: writes now block
    stream = reader if operation == "receive_some" else writer

    async def blocked() -> None:
        with pytest.raises(nursery.ClosedResourceError):
            if operation == "receive_some":
                await reader.receive_some()
            elif operation == "send_all":
                await writer.send_all(b"more")
            else:
                await writer.wait_send_all_might_not_block()

    async with nursery.open_nursery() as n:
        n.start_soon(blocked)
        await wait_all_tasks_blocked()
        await stream.aclose()


async def test_everything_after_close_is_closed_resource_error(
    pipe: tuple[FdStream, FdStream],
) -> None:
    writer, reader = pipe
    write_fd, read_fd = writer.fileno(), reader.fileno()
    await writer.aclose()
    await reader.aclose()
    assert writer.fileno() == reader.fileno() == -1
    assert not _fd_is_open(write_fd) and not _fd_is_open(read_fd)
    with pytest.raises(nursery.ClosedResourceError):
        await writer.send_all(b"")  # even with nothing to send
    with pytest.raises(nursery.ClosedResourceError):
        await writer.wait_send_all_might_not_block()
    with pytest.raises(nursery.ClosedResourceError):
        await reader.receive_some()
    await reader.aclose()  # closing twice does nothing
    reader.close()
    assert "closed" in repr(reader)


async def test_one_task_at_a_time_per_direction(pipe: tuple[FdStream, FdStream]) -> None:
    writer, reader = pipe
    os.write(writer.fileno(), b"x" * (1 << 16))  # a full pipe: the next write blocks

    async with nursery.open_nursery() as n:
        n.start_soon(writer.send_all, b"y")
        await wait_all_tasks_blocked()
        with pytest.raises(nursery.BusyResourceError):
            await writer.send_all(b"z")
        with pytest.raises(nursery.BusyResourceError):
            await writer.wait_send_all_might_not_block()
        assert len(await reader.receive_some()) == 1 << 16  # room: the sender finishes
    assert await reader.receive_some() == b"y"

    async with nursery.open_nursery() as n:
        n.start_soon(reader.receive_some)  # an empty pipe: it blocks
        await wait_all_tasks_blocked()
        with pytest.raises(nursery.BusyResourceError):
            await reader.receive_some()
        await writer.send_all(b"wake")


async def test_the_fd_is_non_blocking_while_wrapped_and_restored_on_close() -> None:
    read_end, write_end = os.pipe()
    os.set_blocking(read_end, True)
    os.set_blocking(write_end, False)
    duplicate = os.dup(read_end)  # shares the open file description, and so its mode
    try:
        reader, writer = FdStream(read_end), FdStream(write_end)
        assert not os.get_blocking(duplicate)
        await reader.aclose()
        await writer.aclose()
        assert os.get_blocking(duplicate)
    finally:
        os.close(duplicate)


async def test_an_unreferenced_stream_closes_its_fd() -> None:
    read_end, write_end = os.pipe()
    FdStream(read_end)
    FdStream(write_end)
    gc.collect()
    assert not _fd_is_open(read_end) and not _fd_is_open(write_end)


async def test_cancelled_receive_loses_nothing(pipe: tuple[FdStream, FdStream]) -> None:
    writer, reader = pipe
    with nursery.CancelScope() as scope:
        scope.cancel()
        await writer.send_all(b"never")  # cancelled before writing anything
    assert scope.cancelled_caught
    with nursery.move_on_after(0.01):
        await reader.receive_some()  # nothing to read: cancelled while waiting
    await writer.send_all(b"data")
    assert await reader.receive_some() == b"data"


async def test_operations_are_checkpoints(pipe: tuple[FdStream, FdStream]) -> None:
    writer, reader = pipe
    with assert_checkpoints():
        await writer.send_all(b"ready")  # does not block: still a checkpoint
    with assert_checkpoints():
        await reader.receive_some()
    with assert_checkpoints():
        await writer.wait_send_all_might_not_block()
    with assert_checkpoints():
        await writer.aclose()


@pytest.mark.parametrize(
    ("fd", "error"), [("3", TypeError), (1.0, TypeError), (True, TypeError), (-1, ValueError)]
)
def test_bad_fd(fd: object, error: type[Exception]) -> None:
    with pytest.raises(error, match="fd"):
        FdStream(fd)  # type: ignore[arg-type]


def test_a_closed_fd_is_an_os_error() -> None:
    read_end, write_end = os.pipe()
    os.close(read_end)
    os.close(write_end)
    with pytest.raises(OSError):
        FdStream(read_end)


@pytest.mark.parametrize(("max_bytes", "error"), [(0, ValueError), ("1", TypeError)])
async def test_bad_max_bytes(
    pipe: tuple[FdStream, FdStream], max_bytes: object, error: type[Exception]
) -> None:
    writer, reader = pipe
    with pytest.raises(error, match="max_bytes"):
        await reader.receive_some(max_bytes)  # type: ignore[arg-type]


def test_is_a_final_stream() -> None:
    assert issubclass(FdStream, nursery.abc.Stream)
    with pytest.raises(TypeError, match="does not support subclassing"):
        type("Sub", (FdStream,), {})


# -- conformance: the stream contract, checked by nursery.testing ---------------------------


def _fill(fd: int) -> None:
    """Write into the non-blocking ``fd`` until the kernel's buffer is full."""
    while True:
        try:
            os.write(fd, b"x" * 65536)
        except BlockingIOError:
            break
    # A pipe may still accept a partial write of less than a page: take that too.
    with contextlib.suppress(BlockingIOError):
        while True:
            os.write(fd, b"x")


async def _pipe_pair() -> tuple[FdStream, FdStream]:
    read_end, write_end = os.pipe()
    return FdStream(write_end), FdStream(read_end)


async def _clogged_pipe_pair() -> tuple[FdStream, FdStream]:
    writer, reader = await _pipe_pair()
    _fill(writer.fileno())
    return writer, reader


async def _socket_pair() -> tuple[FdStream, FdStream]:
    # FdStream over a socket: any fd that supports non-blocking read() and write().
    a, b = socket.socketpair()
    return FdStream(a.detach()), FdStream(b.detach())


async def _clogged_socket_pair() -> tuple[FdStream, FdStream]:
    left, right = await _socket_pair()
    _fill(left.fileno())
    _fill(right.fileno())
    return left, right


async def _stapled_pipes() -> tuple[nursery.StapledStream[FdStream, FdStream], ...]:
    # What Process.stdio is: a pipe each way.
    a_to_b, b_from_a = await _pipe_pair()
    b_to_a, a_from_b = await _pipe_pair()
    return nursery.StapledStream(a_to_b, a_from_b), nursery.StapledStream(b_to_a, b_from_a)


async def test_pipes_keep_the_one_way_stream_contract() -> None:
    await check_one_way_stream(_pipe_pair, _clogged_pipe_pair)


async def test_a_socket_fd_keeps_the_two_way_stream_contract() -> None:
    await check_two_way_stream(_socket_pair, _clogged_socket_pair)


async def test_stapled_pipes_keep_the_two_way_stream_contract() -> None:
    await check_two_way_stream(_stapled_pipes, None)  # type: ignore[arg-type]
