"""``check_one_way_stream``: a conformance test for any ``SendStream`` /
``ReceiveStream`` pair, run against the documented contract of the interfaces.

Each check opens a fresh pair (some checks, such as cancelling a ``send_all``, may
leave a stream unusable, as the contract allows), and closes it at the end. Blocking
behaviour is observed with ``wait_all_tasks_blocked``: a call that is still running
once every task is blocked is blocked, and a woken call has finished by then. So no
check sleeps or depends on timing, and a stream that never wakes a task is reported
instead of hanging the checker.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager

from .._core._cancel_scope import CancelScope
from .._core._exceptions import BrokenResourceError, BusyResourceError, ClosedResourceError
from .._core._nursery import open_nursery
from .._core._runner import wait_all_tasks_blocked
from .._stapled_stream import aclose_forcefully
from ..abc import ReceiveStream, SendStream
from ._check_support import (
    Call,
    StreamMaker,
    errors_are_failures,
    expect_checkpoint,
    expect_raises,
    fail,
    opened,
    plain_assertion_errors,
)

OneWayMaker = StreamMaker[SendStream, ReceiveStream]
Check = Callable[[OneWayMaker], Awaitable[None]]


def _open(
    maker: OneWayMaker, role: str = "stream_maker"
) -> AbstractAsyncContextManager[tuple[SendStream, ReceiveStream]]:
    return opened(maker, (SendStream, ReceiveStream), role)


async def send_checked(s: SendStream, data: bytes | bytearray | memoryview) -> None:
    with expect_checkpoint("send_all"):
        result: object = await s.send_all(data)  # type: ignore[func-returns-value]
    if result is not None:
        fail(f"send_all should return None, got {result!r}")


async def receive_checked(r: ReceiveStream, max_bytes: int | None) -> bytes | bytearray:
    with expect_checkpoint("receive_some"):
        chunk = await r.receive_some(max_bytes)
    if not isinstance(chunk, (bytes, bytearray)):
        fail(f"receive_some should return bytes or bytearray, got {type(chunk).__name__}")
    if max_bytes is not None and len(chunk) > max_bytes:
        fail(f"receive_some({max_bytes}) returned {len(chunk)} bytes")
    return chunk


async def receive_exactly(r: ReceiveStream, expected: bytes, sizes: tuple[int | None, ...]) -> None:
    """Receive until ``expected`` has arrived, cycling through ``sizes`` as max_bytes."""
    got = bytearray()
    turn = 0
    while len(got) < len(expected):
        chunk = await receive_checked(r, sizes[turn % len(sizes)])
        turn += 1
        if not chunk:
            fail(f"receive_some reported the end of the stream after {bytes(got)!r}")
        got += chunk
        if not expected.startswith(got):
            fail(f"received {bytes(got)!r}, which is not a prefix of {expected!r}")


async def deliver(s: SendStream, r: ReceiveStream, data: bytes, what: str) -> None:
    """Send ``data`` from one task while another receives it; a receiver still
    waiting once every task is blocked means the data was lost."""
    receiver: Call[None] = Call(f"receiving {what}")
    async with open_nursery() as nursery:
        nursery.start_soon(send_checked, s, data)
        nursery.start_soon(receiver.run, functools.partial(receive_exactly, r, data, (None, 1)))
        await wait_all_tasks_blocked()
        receiver.expect_returned("once it had all been sent")


async def receive_until_cancelled(r: ReceiveStream) -> None:
    while await r.receive_some(16384):
        pass


async def _data_arrives_in_order(maker: OneWayMaker) -> None:
    async with _open(maker) as (s, r):
        reused = bytearray(b"klm")

        async def sender() -> None:
            await send_checked(s, b"abc")
            await send_checked(s, bytearray(b"defg"))
            await send_checked(s, memoryview(b"__hij__")[2:5])
            await send_checked(s, b"")  # no data, and not the end of the stream
            await send_checked(s, reused)
            reused[:] = b"XXX"  # the stream must not keep a reference to sent data

        async with open_nursery() as nursery:
            nursery.start_soon(sender)
            await receive_exactly(r, b"abcdefghijklm", (1, 2, None, 3))
        # Nothing more than what was sent: a receive now blocks until the end.
        await send_checked(s, b"")
        await s.aclose()
        if await receive_checked(r, 10) != b"":
            fail("receive_some returned data that was never sent")


async def _max_bytes_is_validated(maker: OneWayMaker) -> None:
    async with _open(maker) as (s, r), open_nursery() as nursery:
        # Data on its way, so that a stream validating too late cannot block here.
        nursery.start_soon(s.send_all, b"ok")
        for bad in (0, -1):
            with expect_raises(ValueError, f"receive_some({bad})"):
                await r.receive_some(bad)
        with expect_raises(TypeError, "receive_some(1.5)"):
            await r.receive_some(1.5)  # type: ignore[arg-type]
        await receive_exactly(r, b"ok", (None,))


async def _concurrent_receive_is_busy(maker: OneWayMaker) -> None:
    async with _open(maker) as (s, r):
        first: Call[bytes | bytearray] = Call("receive_some")
        second: Call[bytes | bytearray] = Call("a second, concurrent receive_some")
        async with open_nursery() as nursery:
            nursery.start_soon(first.run, lambda: r.receive_some(10))
            await wait_all_tasks_blocked()
            first.expect_blocked("while nothing was sent")
            nursery.start_soon(second.run, lambda: r.receive_some(10))
            await wait_all_tasks_blocked()
            second.expect_raised(BusyResourceError, "while another task was receiving")
            nursery.start_soon(s.send_all, b"x")
            await wait_all_tasks_blocked()
            if first.expect_returned("once data was sent") != b"x":
                fail(f"the blocked receive_some returned {first.result!r}, not b'x'")


async def _concurrent_send_is_busy(maker: OneWayMaker) -> None:
    async with _open(maker) as (s, r):
        first: Call[None] = Call("send_all")
        second: Call[None] = Call("send_all")
        async with open_nursery() as nursery:
            # Started together: whichever runs first is inside send_all, at a
            # checkpoint, when the other arrives.
            nursery.start_soon(first.run, functools.partial(s.send_all, b"x" * 100))
            nursery.start_soon(second.run, functools.partial(s.send_all, b"y" * 100))
            nursery.start_soon(receive_until_cancelled, r)
            await wait_all_tasks_blocked()
            errors = [call.error for call in (first, second)]
            if not any(isinstance(error, BusyResourceError) for error in errors):
                outcomes = " and ".join(call._outcome() for call in (first, second))
                fail(
                    "two tasks calling send_all at once: expected BusyResourceError "
                    f"for one of them, but they {outcomes}"
                )
            nursery.cancel_scope.cancel()


async def _wait_send_all_might_not_block_returns(maker: OneWayMaker) -> None:
    async with _open(maker) as (s, r):
        waiter: Call[None] = Call("wait_send_all_might_not_block")

        async def wait() -> None:
            with expect_checkpoint("wait_send_all_might_not_block"):
                await s.wait_send_all_might_not_block()

        async with open_nursery() as nursery:
            nursery.start_soon(waiter.run, wait)
            nursery.start_soon(receive_until_cancelled, r)
            await wait_all_tasks_blocked()
            waiter.expect_returned("on a stream with a receiver waiting for data")
            nursery.cancel_scope.cancel()


async def _receive_blocks_until_data_then_end(maker: OneWayMaker) -> None:
    async with _open(maker) as (s, r):
        receiver: Call[bytes | bytearray] = Call("receive_some")
        async with open_nursery() as nursery:
            nursery.start_soon(receiver.run, lambda: receive_checked(r, 10))
            await wait_all_tasks_blocked()
            receiver.expect_blocked("while nothing was sent")
            nursery.start_soon(send_checked, s, b"data")
            await wait_all_tasks_blocked()
            head = receiver.expect_returned("once data was sent")
            if not head or not b"data".startswith(head):
                fail(f"receive_some returned {head!r} after b'data' was sent")
            await receive_exactly(r, b"data"[len(head) :], (None,))

            at_end: Call[bytes | bytearray] = Call("receive_some")
            nursery.start_soon(at_end.run, lambda: receive_checked(r, 10))
            await wait_all_tasks_blocked()
            at_end.expect_blocked("while the sending end is open")
            await s.aclose()
            await wait_all_tasks_blocked()
            if at_end.expect_returned("once the sending end was closed") != b"":
                fail(f"receive_some returned {at_end.result!r} instead of the end")
        with errors_are_failures("receive_some again after the end of the stream"):
            for _ in range(2):
                if await receive_checked(r, 10) != b"":
                    fail("receive_some must keep returning b'' after the end of the stream")


async def _checked_aclose(resource: SendStream | ReceiveStream, action: str) -> None:
    with errors_are_failures(action), expect_checkpoint(action):
        await resource.aclose()


async def _closed_streams_refuse_operations(maker: OneWayMaker) -> None:
    async with _open(maker) as (s, r):
        # The send end first, in a task of its own, and the receive end once that close
        # has finished or is waiting: a graceful close may need the peer to take part
        # (a TLS stream that has not done its handshake yet does it, to send
        # close_notify).
        async with open_nursery() as nursery:
            nursery.start_soon(_checked_aclose, s, "aclose of the send stream")
            await wait_all_tasks_blocked()
            await _checked_aclose(r, "aclose of the receive stream")
        await _checked_aclose(s, "a second aclose of the send stream")
        await _checked_aclose(r, "a second aclose of the receive stream")
        with expect_raises(ClosedResourceError, "send_all after aclose"):
            await s.send_all(b"x")
        with expect_raises(ClosedResourceError, "wait_send_all_might_not_block after aclose"):
            await s.wait_send_all_might_not_block()
        with expect_raises(ClosedResourceError, "receive_some after aclose"):
            await r.receive_some(10)


async def _cancelled_aclose_still_closes(maker: OneWayMaker) -> None:
    async with _open(maker) as (s, r):
        with CancelScope() as scope:
            scope.cancel()
            await s.aclose()
        with CancelScope() as scope:
            scope.cancel()
            await r.aclose()
        with expect_raises(ClosedResourceError, "send_all after an aclose that was cancelled"):
            await s.send_all(b"x")
        with expect_raises(ClosedResourceError, "receive_some after an aclose that was cancelled"):
            await r.receive_some(10)


async def _closing_the_receiver_breaks_the_sender(maker: OneWayMaker) -> None:
    async with _open(maker) as (s, r), open_nursery() as nursery:
        # The close runs beside the sends, since a graceful close may need the sender
        # to take part (see above). A real transport may accept a little more before
        # it notices.
        nursery.start_soon(r.aclose)
        with expect_raises(BrokenResourceError, "send_all after the receiving end was closed"):
            for _ in range(1000):
                await s.send_all(b"x" * 1024)


async def _aclose_wakes_a_blocked_receive(maker: OneWayMaker) -> None:
    async with _open(maker) as (_s, r):
        receiver: Call[bytes | bytearray] = Call("receive_some")
        async with open_nursery() as nursery:
            nursery.start_soon(receiver.run, lambda: r.receive_some(10))
            await wait_all_tasks_blocked()
            receiver.expect_blocked("while nothing was sent")
            await aclose_forcefully(r)
            await wait_all_tasks_blocked()
            receiver.expect_raised(ClosedResourceError, "after another task closed the stream")


async def _cancelled_receive_loses_nothing(maker: OneWayMaker) -> None:
    async with _open(maker) as (s, r):
        receiver: Call[bytes | bytearray] = Call("receive_some")
        async with open_nursery() as nursery:
            nursery.start_soon(receiver.run, lambda: r.receive_some(10))
            await wait_all_tasks_blocked()
            receiver.expect_blocked("while nothing was sent")
            receiver.scope.cancel()
            await wait_all_tasks_blocked()
            receiver.expect_cancelled("after its cancel scope was cancelled")
            await deliver(s, r, b"after", "data sent after a receive_some was cancelled")


CHECKS: tuple[Check, ...] = (
    _data_arrives_in_order,
    _max_bytes_is_validated,
    _concurrent_receive_is_busy,
    _concurrent_send_is_busy,
    _wait_send_all_might_not_block_returns,
    _receive_blocks_until_data_then_end,
    _closed_streams_refuse_operations,
    _cancelled_aclose_still_closes,
    _closing_the_receiver_breaks_the_sender,
    _aclose_wakes_a_blocked_receive,
    _cancelled_receive_loses_nothing,
)


# -- checks that need a clogged stream: send_all blocks until someone receives ----------


def _open_clogged(
    maker: OneWayMaker,
) -> AbstractAsyncContextManager[tuple[SendStream, ReceiveStream]]:
    return _open(maker, "clogged_stream_maker")


async def _blocked_send_all_is_cancellable(maker: OneWayMaker) -> None:
    async with _open_clogged(maker) as (s, _r):
        sender: Call[None] = Call("send_all on a clogged stream")
        async with open_nursery() as nursery:
            nursery.start_soon(sender.run, lambda: s.send_all(b"x" * 1024))
            await wait_all_tasks_blocked()
            sender.expect_blocked("while nobody receives")
            sender.scope.cancel()
            await wait_all_tasks_blocked()
            sender.expect_cancelled("after its cancel scope was cancelled")


async def _wait_send_all_might_not_block_waits_for_a_receiver(maker: OneWayMaker) -> None:
    async with _open_clogged(maker) as (s, r):
        waiter: Call[None] = Call("wait_send_all_might_not_block on a clogged stream")

        async def wait() -> None:
            with expect_checkpoint("wait_send_all_might_not_block"):
                await s.wait_send_all_might_not_block()

        async with open_nursery() as nursery:
            nursery.start_soon(waiter.run, wait)
            await wait_all_tasks_blocked()
            waiter.expect_blocked("while nobody receives")
            nursery.start_soon(receive_until_cancelled, r)
            await wait_all_tasks_blocked()
            waiter.expect_returned("once another task was receiving")
            nursery.cancel_scope.cancel()


SendOperation = Callable[[SendStream], Awaitable[None]]


async def _send_all(s: SendStream) -> None:
    await s.send_all(b"x" * 1024)


async def _wait(s: SendStream) -> None:
    await s.wait_send_all_might_not_block()


SEND_OPERATIONS: tuple[tuple[str, SendOperation], ...] = (
    ("send_all", _send_all),
    ("wait_send_all_might_not_block", _wait),
)


async def _concurrent_send_operations_are_busy(maker: OneWayMaker) -> None:
    for first_name, first_op in SEND_OPERATIONS:
        for second_name, second_op in SEND_OPERATIONS:
            async with _open_clogged(maker) as (s, _r):
                first: Call[None] = Call(f"{first_name} on a clogged stream")
                second: Call[None] = Call(f"{second_name} while {first_name} was blocked")
                async with open_nursery() as nursery:
                    nursery.start_soon(first.run, functools.partial(first_op, s))
                    await wait_all_tasks_blocked()
                    first.expect_blocked("while nobody receives")
                    nursery.start_soon(second.run, functools.partial(second_op, s))
                    await wait_all_tasks_blocked()
                    second.expect_raised(BusyResourceError, "(one send operation at a time)")
                    nursery.cancel_scope.cancel()


async def _closing_the_sender_wakes_blocked_send_operations(maker: OneWayMaker) -> None:
    for name, op in SEND_OPERATIONS:
        async with _open_clogged(maker) as (s, _r):
            blocked: Call[None] = Call(f"{name} on a clogged stream")
            async with open_nursery() as nursery:
                nursery.start_soon(blocked.run, functools.partial(op, s))
                await wait_all_tasks_blocked()
                blocked.expect_blocked("while nobody receives")
                await aclose_forcefully(s)
                await wait_all_tasks_blocked()
                blocked.expect_raised(ClosedResourceError, "after another task closed the stream")


async def _closing_the_receiver_wakes_the_sender(maker: OneWayMaker) -> None:
    async with _open_clogged(maker) as (s, r):
        waiter: Call[None] = Call("wait_send_all_might_not_block on a clogged stream")
        async with open_nursery() as nursery:
            nursery.start_soon(waiter.run, lambda: _wait(s))
            await wait_all_tasks_blocked()
            waiter.expect_blocked("while nobody receives")
            await aclose_forcefully(r)
            await wait_all_tasks_blocked()
            # It may return (a send_all would fail at once, not block) or report the
            # broken stream; either way it must not sleep on.
            waiter.expect_done("after the receiving end was closed")
            if waiter.error is not None and not isinstance(waiter.error, BrokenResourceError):
                fail(f"{waiter.action} raised {waiter.error!r} after the receiver closed")
    async with _open_clogged(maker) as (s, r):
        await aclose_forcefully(r)
        try:
            with expect_checkpoint("wait_send_all_might_not_block"):
                await s.wait_send_all_might_not_block()
        except BrokenResourceError:
            pass
    async with _open_clogged(maker) as (s, r):
        sender: Call[None] = Call("send_all on a clogged stream")
        async with open_nursery() as nursery:
            nursery.start_soon(sender.run, lambda: _send_all(s))
            await wait_all_tasks_blocked()
            sender.expect_blocked("while nobody receives")
            await aclose_forcefully(r)
            await wait_all_tasks_blocked()
            sender.expect_raised(BrokenResourceError, "after the receiving end was closed")


CLOGGED_CHECKS: tuple[Check, ...] = (
    _blocked_send_all_is_cancellable,
    _wait_send_all_might_not_block_waits_for_a_receiver,
    _concurrent_send_operations_are_busy,
    _closing_the_sender_wakes_blocked_send_operations,
    _closing_the_receiver_wakes_the_sender,
)


async def run_one_way_checks(
    stream_maker: OneWayMaker, clogged_stream_maker: OneWayMaker | None
) -> None:
    for check in CHECKS:
        await check(stream_maker)
    if clogged_stream_maker is not None:
        for check in CLOGGED_CHECKS:
            await check(clogged_stream_maker)


async def check_one_way_stream(
    stream_maker: Callable[[], Awaitable[tuple[SendStream, ReceiveStream]]],
    clogged_stream_maker: Callable[[], Awaitable[tuple[SendStream, ReceiveStream]]] | None,
) -> None:
    """Test a one-way stream implementation against the stream contract.

    ``stream_maker`` is an async function returning a new connected ``(send_stream,
    receive_stream)`` pair each time it is called. ``clogged_stream_maker`` is ``None``
    or a similar function whose pairs start *clogged*: ``send_all`` and
    ``wait_send_all_might_not_block`` block until the receive stream is read; with it,
    blocking, cancellation and wake-ups on the sending side are checked too.

    Raises ``AssertionError``, naming the broken promise, at the first failure.
    """
    with plain_assertion_errors():
        await run_one_way_checks(stream_maker, clogged_stream_maker)
