"""``check_two_way_stream`` and ``check_half_closeable_stream``: conformance tests for
two-way streams. Each is a superset of the one before it: the two-way checker runs the
one-way checks in both directions, the half-closeable checker runs the two-way ones.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from typing import TypeVar

from .._core._exceptions import BusyResourceError, ClosedResourceError
from .._core._nursery import open_nursery
from .._core._runner import wait_all_tasks_blocked
from ..abc import HalfCloseableStream, Stream
from ._check_one_way import receive_checked, receive_exactly, run_one_way_checks
from ._check_support import (
    Call,
    errors_are_failures,
    expect_checkpoint,
    expect_raises,
    fail,
    opened,
    plain_assertion_errors,
)

S = TypeVar("S", bound=Stream)
TwoWayMaker = Callable[[], Awaitable[tuple[S, S]]]

# Large enough that no transport buffers it whole, so both directions must flow at
# once; small enough to check in well under a second.
DUPLEX_SIZE = 1 << 20
MAX_CHUNK = 1 << 14


def _flipped(maker: TwoWayMaker[S]) -> TwoWayMaker[S]:
    async def flipped() -> tuple[S, S]:
        first, second = await maker()
        return second, first

    return flipped


def _open(
    maker: TwoWayMaker[S], kind: type[object], role: str = "stream_maker"
) -> AbstractAsyncContextManager[tuple[S, S]]:
    return opened(maker, (kind, kind), role)


async def _send_in_random_chunks(stream: Stream, data: bytes, seed: int) -> None:
    chunk_sizes = random.Random(seed)
    view = memoryview(data)
    while view:
        size = chunk_sizes.randint(1, MAX_CHUNK)
        await stream.send_all(view[:size])
        view = view[size:]


async def _receive_in_random_chunks(stream: Stream, expected: bytes, seed: int) -> None:
    chunk_sizes = random.Random(seed)
    got = bytearray()
    while len(got) < len(expected):
        chunk = await stream.receive_some(chunk_sizes.randint(1, MAX_CHUNK))
        if not chunk:
            fail(f"the stream ended after {len(got)} of {len(expected)} bytes")
        got += chunk
    if got != expected:
        at = next(i for i, (a, b) in enumerate(zip(got, expected, strict=True)) if a != b)
        fail(f"both directions at once: the data received differs from the data sent at byte {at}")


async def _both_directions_at_once(maker: TwoWayMaker[S]) -> None:
    data = random.Random(0).randbytes(DUPLEX_SIZE)
    backwards = data[::-1]
    async with _open(maker, Stream) as (s1, s2):
        with errors_are_failures("sending and receiving in both directions at once"):
            async with open_nursery() as nursery:
                nursery.start_soon(_send_in_random_chunks, s1, data, 1)
                nursery.start_soon(_send_in_random_chunks, s2, backwards, 2)
                nursery.start_soon(_receive_in_random_chunks, s2, data, 3)
                nursery.start_soon(_receive_in_random_chunks, s1, backwards, 4)
        # Closing one end is the end of the stream for the other.
        receiver: Call[bytes | bytearray] = Call("receive_some")
        async with open_nursery() as nursery:
            nursery.start_soon(receiver.run, lambda: receive_checked(s2, 10))
            await wait_all_tasks_blocked()
            receiver.expect_blocked("while the peer is open and sends nothing")
            await s1.aclose()
            await wait_all_tasks_blocked()
            if receiver.expect_returned("once the peer was closed") != b"":
                fail(f"receive_some returned {receiver.result!r} after the peer was closed")


async def run_two_way_checks(
    stream_maker: TwoWayMaker[S], clogged_stream_maker: TwoWayMaker[S] | None
) -> None:
    for maker, clogged in (
        (stream_maker, clogged_stream_maker),
        (
            _flipped(stream_maker),
            None if clogged_stream_maker is None else _flipped(clogged_stream_maker),
        ),
    ):
        await run_one_way_checks(maker, clogged)
    await _both_directions_at_once(stream_maker)


async def check_two_way_stream(
    stream_maker: Callable[[], Awaitable[tuple[Stream, Stream]]],
    clogged_stream_maker: Callable[[], Awaitable[tuple[Stream, Stream]]] | None,
) -> None:
    """Test a two-way stream implementation against the stream contract: everything
    ``check_one_way_stream`` checks, in both directions, and both directions in use at
    once with a large amount of data.

    The makers are as for ``check_one_way_stream``, but return two connected
    ``Stream`` objects. Raises ``AssertionError`` at the first failure.
    """
    with plain_assertion_errors():
        await run_two_way_checks(stream_maker, clogged_stream_maker)


# -- half-closing -----------------------------------------------------------------------


async def _send_then_eof(stream: HalfCloseableStream, data: bytes) -> None:
    await stream.send_all(data)
    with expect_checkpoint("send_eof"):
        await stream.send_eof()


async def _expect_data_then_end(stream: HalfCloseableStream, data: bytes) -> None:
    await receive_exactly(stream, data, (None,))
    for _ in range(2):
        if await receive_checked(stream, 10) != b"":
            fail("receive_some should return b'' after the peer's send_eof")


async def _send_eof_ends_one_direction(maker: TwoWayMaker[HalfCloseableStream]) -> None:
    async with _open(maker, HalfCloseableStream) as (s1, s2):
        # s1's own receive goes on undisturbed while it half-closes.
        own_receive: Call[bytes | bytearray] = Call("receive_some")
        async with open_nursery() as nursery:
            nursery.start_soon(own_receive.run, lambda: receive_checked(s1, 10))
            await wait_all_tasks_blocked()
            own_receive.expect_blocked("while the peer sends nothing")
            nursery.start_soon(_send_then_eof, s1, b"x")
            await _expect_data_then_end(s2, b"x")
            await wait_all_tasks_blocked()
            own_receive.expect_blocked("after its own stream's send_eof")
            nursery.start_soon(s2.send_all, b"y")
            await wait_all_tasks_blocked()
            if own_receive.expect_returned("once the peer sent data") != b"y":
                fail(f"receive_some after send_eof returned {own_receive.result!r}, not b'y'")
        with expect_raises(ClosedResourceError, "send_all after send_eof"):
            await s1.send_all(b"z")
        with errors_are_failures("a second send_eof"), expect_checkpoint("a second send_eof"):
            await s1.send_eof()
        # The other direction can be ended too.
        async with open_nursery() as nursery:
            nursery.start_soon(_send_then_eof, s2, b"back")
            await _expect_data_then_end(s1, b"back")


async def _send_eof_is_busy_during_send_operations(
    maker: TwoWayMaker[HalfCloseableStream],
) -> None:
    for name in ("send_all", "wait_send_all_might_not_block"):
        async with _open(maker, HalfCloseableStream, "clogged_stream_maker") as (s1, _s2):
            blocked: Call[None] = Call(f"{name} on a clogged stream")
            eof: Call[None] = Call(f"send_eof while {name} was blocked")
            async with open_nursery() as nursery:
                if name == "send_all":
                    nursery.start_soon(blocked.run, lambda: s1.send_all(b"x" * 1024))
                else:
                    nursery.start_soon(blocked.run, s1.wait_send_all_might_not_block)
                await wait_all_tasks_blocked()
                blocked.expect_blocked("while nobody receives")
                nursery.start_soon(eof.run, s1.send_eof)
                await wait_all_tasks_blocked()
                eof.expect_raised(BusyResourceError, "(one send operation at a time)")
                nursery.cancel_scope.cancel()


async def check_half_closeable_stream(
    stream_maker: Callable[[], Awaitable[tuple[HalfCloseableStream, HalfCloseableStream]]],
    clogged_stream_maker: Callable[[], Awaitable[tuple[HalfCloseableStream, HalfCloseableStream]]]
    | None,
) -> None:
    """Test a half-closeable stream implementation: everything
    ``check_two_way_stream`` checks, and ``send_eof``: the peer sees the data and then
    the end, the stream can still receive, ``send_all`` afterwards raises
    ``ClosedResourceError``, a second ``send_eof`` does nothing, and (with a clogged
    maker) ``send_eof`` during a blocked send operation raises ``BusyResourceError``.

    Raises ``AssertionError`` at the first failure.
    """
    with plain_assertion_errors():
        await run_two_way_checks(stream_maker, clogged_stream_maker)
        await _send_eof_ends_one_direction(stream_maker)
        if clogged_stream_maker is not None:
            await _send_eof_is_busy_during_send_operations(clogged_stream_maker)
