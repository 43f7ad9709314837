"""Memory channels: hand-off, buffering, FIFO order, closing, clones, cancellation; the
channel ABCs; and as_safe_channel.

Every test is deterministic: tasks are ordered with wait_all_tasks_blocked (which
returns once every other task is asleep) or a Sequencer, time is the autojump clock's.
"""

from __future__ import annotations

import functools
import math
import signal
from collections import OrderedDict, deque
from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import nursery
from nursery import (
    BrokenResourceError,
    ClosedResourceError,
    EndOfChannel,
    MemoryChannelStatistics,
    MemoryReceiveChannel,
    MemorySendChannel,
    WouldBlock,
    open_memory_channel,
)
from nursery.abc import AsyncResource, Channel, ReceiveChannel, SendChannel
from nursery.testing import (
    MockClock,
    Sequencer,
    assert_checkpoints,
    assert_no_checkpoints,
    wait_all_tasks_blocked,
)


def stats(channel: MemorySendChannel[Any] | MemoryReceiveChannel[Any]) -> dict[str, object]:
    s = channel.statistics()
    return {
        "buffer": s.current_buffer_used,
        "senders": s.tasks_waiting_send,
        "receivers": s.tasks_waiting_receive,
        "open_send": s.open_send_channels,
        "open_receive": s.open_receive_channels,
    }


class Outcomes:
    """Records how each named background operation ended."""

    def __init__(self) -> None:
        self.results: dict[str, object] = {}

    def start(self, n: nursery.Nursery, name: str, op: Callable[[], Awaitable[object]]) -> None:
        async def run() -> None:
            try:
                self.results[name] = ("ok", await op())
            except nursery.Cancelled:
                self.results[name] = ("cancelled",)
                raise
            except Exception as exc:
                self.results[name] = ("error", type(exc))

        n.start_soon(run, name=name)


# -- construction ----------------------------------------------------------------------------


@pytest.mark.parametrize("size", [0, 1, 5, math.inf, float("inf")])
async def test_valid_buffer_sizes(size: int | float) -> None:
    s, r = open_memory_channel[int](size)
    assert isinstance(s, MemorySendChannel)
    assert isinstance(r, MemoryReceiveChannel)
    assert s.statistics().max_buffer_size == size


@pytest.mark.parametrize("size", [1.5, 2.0, "3", None, True, float("nan"), -math.inf])
def test_buffer_size_of_the_wrong_type(size: object) -> None:
    with pytest.raises(TypeError, match="max_buffer_size"):
        open_memory_channel(size)  # type: ignore[arg-type]


@pytest.mark.parametrize("size", [-1, -100])
def test_negative_buffer_size(size: int) -> None:
    with pytest.raises(ValueError, match="max_buffer_size"):
        open_memory_channel(size)


def test_handles_have_no_public_constructor_and_are_final() -> None:
    for cls in (MemorySendChannel, MemoryReceiveChannel):
        with pytest.raises(TypeError, match="no public constructor"):
            cls(None)  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="does not support subclassing"):
            type("Sub", (cls,), {})


def test_handles_implement_the_abcs() -> None:
    s, r = open_memory_channel[int](0)
    assert isinstance(s, SendChannel) and isinstance(s, AsyncResource)
    assert isinstance(r, ReceiveChannel) and isinstance(r, AsyncResource)
    assert not isinstance(s, ReceiveChannel)
    assert "MemorySendChannel" in repr(s) and "MemoryReceiveChannel" in repr(r)
    s.close()
    assert "closed" in repr(s)


def test_statistics_is_a_frozen_value() -> None:
    s, r = open_memory_channel[int](3)
    st = s.statistics()
    assert st == r.statistics()
    assert st == MemoryChannelStatistics(
        current_buffer_used=0,
        max_buffer_size=3,
        open_send_channels=1,
        open_receive_channels=1,
        tasks_waiting_send=0,
        tasks_waiting_receive=0,
        peak_buffer_used=0,
    )
    with pytest.raises(AttributeError):
        st.current_buffer_used = 1  # type: ignore[misc]


# -- the ABCs --------------------------------------------------------------------------------


async def test_abcs_are_abstract_and_give_async_iteration_and_async_with() -> None:
    with pytest.raises(TypeError):
        ReceiveChannel()  # type: ignore[abstract]

    class Countdown(Channel[int]):
        def __init__(self) -> None:
            self.items = [3, 2, 1]
            self.closed = False
            self.sent: list[int] = []

        async def send(self, value: int) -> None:
            self.sent.append(value)

        async def receive(self) -> int:
            await nursery.lowlevel.checkpoint()
            if not self.items:
                raise EndOfChannel
            return self.items.pop(0)

        async def aclose(self) -> None:
            self.closed = True

    async with Countdown() as channel:
        await channel.send(7)
        assert [item async for item in channel] == [3, 2, 1]
    assert channel.closed and channel.sent == [7]


# -- without blocking ------------------------------------------------------------------------


async def test_nowait_fills_the_buffer_then_would_block() -> None:
    s, r = open_memory_channel[str](2)
    with assert_no_checkpoints():
        s.send_nowait("a")
        s.send_nowait("b")
        with pytest.raises(WouldBlock):
            s.send_nowait("c")
        assert s.statistics().current_buffer_used == 2
        assert r.receive_nowait() == "a"
        assert r.receive_nowait() == "b"
        with pytest.raises(WouldBlock):
            r.receive_nowait()
    assert s.statistics().peak_buffer_used == 2


async def test_unbuffered_nowait_needs_a_waiting_receiver() -> None:
    s, r = open_memory_channel[str](0)
    with pytest.raises(WouldBlock):
        s.send_nowait("x")
    got: list[str] = []
    async with nursery.open_nursery() as n:

        async def receiver() -> None:
            got.append(await r.receive())

        n.start_soon(receiver)
        await wait_all_tasks_blocked()
        assert stats(r)["receivers"] == 1
        s.send_nowait("x")  # hands off to the sleeping receiver
        assert stats(r)["receivers"] == 0
    assert got == ["x"]
    assert s.statistics().peak_buffer_used == 0  # a hand-off never touches the buffer


async def test_infinite_buffer_never_blocks() -> None:
    s, r = open_memory_channel[int](math.inf)
    for i in range(1000):
        s.send_nowait(i)
    assert s.statistics().peak_buffer_used == 1000
    assert [r.receive_nowait() for _ in range(1000)] == list(range(1000))


async def test_receive_nowait_takes_from_a_waiting_sender() -> None:
    s, r = open_memory_channel[str](0)
    async with nursery.open_nursery() as n:
        n.start_soon(s.send, "from sender")
        await wait_all_tasks_blocked()
        assert stats(s)["senders"] == 1
        assert r.receive_nowait() == "from sender"
        assert stats(s)["senders"] == 0


# -- blocking, order and bounds ------------------------------------------------------------


async def test_send_and_receive_are_checkpoints_even_when_they_do_not_block() -> None:
    s, r = open_memory_channel[int](1)
    with assert_checkpoints():
        await s.send(1)
    with assert_checkpoints():
        assert await r.receive() == 1
    s.send_nowait(2)
    with assert_checkpoints():
        assert await r.__anext__() == 2  # one step of an async for
    with assert_no_checkpoints():
        s.clone().close()
        r.clone().close()
    with assert_checkpoints():
        await s.aclose()
    with assert_checkpoints():
        await r.aclose()


async def test_send_and_receive_in_a_cancelled_scope_raise_at_a_schedule_point() -> None:
    # As with checkpoint_if_cancelled(): when the cancel point raises, it is a
    # schedule point too.
    s, r = open_memory_channel[int](1)
    for op in (lambda: s.send(1), r.receive, r.__anext__):
        task = nursery.lowlevel.current_task()
        before = task._schedule_points
        with nursery.CancelScope() as scope:
            scope.cancel()
            await op()
        assert scope.cancelled_caught
        assert task._schedule_points > before
    assert s.statistics().current_buffer_used == 0


async def test_unbuffered_send_waits_for_a_receiver() -> None:
    s, r = open_memory_channel[str](0)
    out = Outcomes()
    async with nursery.open_nursery() as n:
        out.start(n, "send", lambda: s.send("x"))
        await wait_all_tasks_blocked()
        assert "send" not in out.results
        assert await r.receive() == "x"
        await wait_all_tasks_blocked()
        assert out.results["send"] == ("ok", None)


async def test_senders_are_served_in_fifo_order() -> None:
    s, r = open_memory_channel[str](1)
    s.send_nowait("buffered")
    async with nursery.open_nursery() as n:
        for name in "abcde":
            n.start_soon(s.send, name)
            await wait_all_tasks_blocked()  # parked, in this order
        assert stats(s)["senders"] == 5
        got = [await r.receive() for _ in range(6)]
    assert got == ["buffered", "a", "b", "c", "d", "e"]


async def test_receivers_are_served_in_fifo_order() -> None:
    s, r = open_memory_channel[int](0)
    got: list[tuple[str, int]] = []

    async def receiver(name: str) -> None:
        got.append((name, await r.receive()))

    async with nursery.open_nursery() as n:
        for name in "abcd":
            n.start_soon(receiver, name)
            await wait_all_tasks_blocked()
        for i in range(4):
            await s.send(i)
    assert sorted(got) == [("a", 0), ("b", 1), ("c", 2), ("d", 3)]


async def test_buffer_never_exceeds_its_size() -> None:
    s, r = open_memory_channel[int](3)
    seen: list[int] = []

    async def producer(base: int) -> None:
        for i in range(10):
            await s.send(base + i)
            seen.append(s.statistics().current_buffer_used)

    async with nursery.open_nursery() as n:
        for base in (0, 100, 200):
            n.start_soon(producer, base)
        await wait_all_tasks_blocked()
        assert s.statistics().current_buffer_used == 3
        assert s.statistics().tasks_waiting_send == 3
        for _ in range(30):
            seen.append(r.statistics().current_buffer_used)
            await r.receive()
            await wait_all_tasks_blocked()
    assert max(seen) == 3
    assert s.statistics().peak_buffer_used == 3


async def test_receive_from_a_full_buffer_keeps_order_with_waiting_senders() -> None:
    s, r = open_memory_channel[int](2)
    s.send_nowait(1)
    s.send_nowait(2)
    async with nursery.open_nursery() as n:
        n.start_soon(s.send, 3)
        await wait_all_tasks_blocked()
        n.start_soon(s.send, 4)
        await wait_all_tasks_blocked()
        assert r.receive_nowait() == 1
        # Sender 3 moved into the buffer, sender 4 still waits.
        assert stats(s) == {
            "buffer": 2,
            "senders": 1,
            "receivers": 0,
            "open_send": 1,
            "open_receive": 1,
        }
        assert [await r.receive() for _ in range(3)] == [2, 3, 4]


# -- closing ---------------------------------------------------------------------------------


async def test_closed_handles_raise_closed_resource_error() -> None:
    s, r = open_memory_channel[int](5)
    s.close()
    s.close()  # idempotent
    r.close()
    with pytest.raises(ClosedResourceError):
        s.send_nowait(1)
    with pytest.raises(ClosedResourceError):
        await s.send(1)
    with pytest.raises(ClosedResourceError):
        s.clone()
    with pytest.raises(ClosedResourceError):
        r.receive_nowait()
    with pytest.raises(ClosedResourceError):
        await r.receive()
    with pytest.raises(ClosedResourceError):
        r.clone()
    await s.aclose()  # still fine


async def test_receivers_drain_the_buffer_then_get_end_of_channel() -> None:
    s, r = open_memory_channel[int](5)
    for i in range(3):
        await s.send(i)
    await s.aclose()
    assert [item async for item in r] == [0, 1, 2]
    with pytest.raises(EndOfChannel):
        r.receive_nowait()
    with pytest.raises(EndOfChannel):
        await r.receive()


async def test_senders_get_broken_resource_error_when_all_receivers_close() -> None:
    s, r = open_memory_channel[int](5)
    s.send_nowait(1)
    r.close()
    assert s.statistics().current_buffer_used == 0  # nobody can ever take it
    with pytest.raises(BrokenResourceError):
        s.send_nowait(2)
    with pytest.raises(BrokenResourceError):
        await s.send(2)


async def test_closing_the_last_sender_wakes_waiting_receivers() -> None:
    s, r = open_memory_channel[int](0)
    r2 = r.clone()
    out = Outcomes()
    async with nursery.open_nursery() as n:
        out.start(n, "a", r.receive)
        out.start(n, "b", r2.receive)
        await wait_all_tasks_blocked()
        with assert_no_checkpoints():
            s.close()
    assert out.results == {"a": ("error", EndOfChannel), "b": ("error", EndOfChannel)}
    assert stats(r)["receivers"] == 0


async def test_closing_the_last_receiver_wakes_waiting_senders() -> None:
    s, r = open_memory_channel[int](1)
    s2 = s.clone()
    s.send_nowait(0)
    out = Outcomes()
    async with nursery.open_nursery() as n:
        out.start(n, "a", lambda: s.send(1))
        out.start(n, "b", lambda: s2.send(2))
        await wait_all_tasks_blocked()
        r.close()
    assert out.results == {"a": ("error", BrokenResourceError), "b": ("error", BrokenResourceError)}
    assert stats(s) == {
        "buffer": 0,
        "senders": 0,
        "receivers": 0,
        "open_send": 2,
        "open_receive": 0,
    }


async def test_closing_a_send_handle_wakes_only_its_own_senders() -> None:
    s, r = open_memory_channel[str](0)
    s2 = s.clone()
    out = Outcomes()
    async with nursery.open_nursery() as n:
        out.start(n, "mine", lambda: s.send("mine"))
        out.start(n, "other", lambda: s2.send("other"))
        await wait_all_tasks_blocked()
        s.close()
        await wait_all_tasks_blocked()
        assert out.results == {"mine": ("error", ClosedResourceError)}
        # The clone still works, and its sender is still queued.
        assert stats(s) == {
            "buffer": 0,
            "senders": 1,
            "receivers": 0,
            "open_send": 1,
            "open_receive": 1,
        }
        assert await r.receive() == "other"
    assert out.results["other"] == ("ok", None)


async def test_closing_a_receive_handle_wakes_only_its_own_receivers() -> None:
    s, r = open_memory_channel[str](0)
    r2 = r.clone()
    out = Outcomes()
    async with nursery.open_nursery() as n:
        out.start(n, "mine", r.receive)
        out.start(n, "other", r2.receive)
        await wait_all_tasks_blocked()
        await r.aclose()
        await wait_all_tasks_blocked()
        assert out.results == {"mine": ("error", ClosedResourceError)}
        assert stats(s)["receivers"] == 1
        await s.send("x")
    assert out.results["other"] == ("ok", "x")


async def test_closing_the_last_sender_while_its_own_send_is_blocked() -> None:
    # Closing the handle: its blocked sender gets ClosedResourceError, and since it
    # was the last send handle, receivers blocked on a clone get EndOfChannel.
    s, r = open_memory_channel[int](0)
    out = Outcomes()
    async with nursery.open_nursery() as n:
        out.start(n, "send", lambda: s.send(1))
        await wait_all_tasks_blocked()
        s.close()
    assert out.results == {"send": ("error", ClosedResourceError)}
    with pytest.raises(EndOfChannel):
        r.receive_nowait()


async def test_close_races_with_parked_senders_and_receivers_of_both_ends() -> None:
    # Senders parked on a full buffer; the receive side closes; then the send side.
    s, r = open_memory_channel[int](1)
    s.send_nowait(0)
    out = Outcomes()
    async with nursery.open_nursery() as n:
        for i in range(3):
            out.start(n, f"send{i}", functools.partial(s.send, i))
        await wait_all_tasks_blocked()
        r.close()
        s.close()
    assert out.results == {f"send{i}": ("error", BrokenResourceError) for i in range(3)}
    # And receivers parked on an empty channel when both sides close.
    s, r = open_memory_channel[int](1)
    out = Outcomes()
    async with nursery.open_nursery() as n:
        for i in range(3):
            out.start(n, f"recv{i}", r.receive)
        await wait_all_tasks_blocked()
        s.close()
        r.close()  # after they were woken: nothing more happens to them
    assert out.results == {f"recv{i}": ("error", EndOfChannel) for i in range(3)}


async def test_a_channel_ends_only_when_every_clone_is_closed() -> None:
    s, r = open_memory_channel[int](10)
    clones = [s.clone() for _ in range(3)]
    assert s.statistics().open_send_channels == 4
    s.close()
    for i, clone in enumerate(clones):
        await clone.send(i)
        clone.close()
        if i < 2:
            # Not the end yet: a clone is still open.
            assert await r.receive() == i
            with pytest.raises(WouldBlock):
                r.receive_nowait()
    assert await r.receive() == 2
    with pytest.raises(EndOfChannel):
        await r.receive()

    s, r = open_memory_channel[int](10)
    r2 = r.clone()
    r.close()
    await s.send(1)  # r2 still open: not broken
    assert r2.receive_nowait() == 1
    r2.close()
    with pytest.raises(BrokenResourceError):
        await s.send(2)


async def test_context_managers_close_the_handle() -> None:
    s, r = open_memory_channel[int](1)
    with s:
        pass
    with pytest.raises(ClosedResourceError):
        s.send_nowait(1)
    async with r:
        pass
    with pytest.raises(ClosedResourceError):
        r.receive_nowait()
    assert stats(s)["open_send"] == 0 and stats(s)["open_receive"] == 0


async def test_aclose_closes_even_when_cancelled() -> None:
    s, r = open_memory_channel[int](1)
    with nursery.CancelScope() as scope:
        scope.cancel()
        await s.aclose()
    assert scope.cancelled_caught
    assert s.statistics().open_send_channels == 0


async def test_async_for_ends_at_end_of_channel() -> None:
    s, r = open_memory_channel[int](0)
    got: list[int] = []

    async def producer() -> None:
        async with s:
            for i in range(5):
                await s.send(i)

    async with nursery.open_nursery() as n:
        n.start_soon(producer)
        async for item in r:
            got.append(item)
    assert got == [0, 1, 2, 3, 4]


@pytest.mark.parametrize("buffer_size", [0, 1, math.inf])
async def test_async_for_parked_receiver_ends_when_the_last_sender_closes(
    buffer_size: float,
) -> None:
    s, r = open_memory_channel[int](buffer_size)
    got: list[int] = []

    async def consumer() -> None:
        async for item in r:
            got.append(item)
        got.append(-1)  # the loop ended normally, no exception

    async with nursery.open_nursery() as n:
        n.start_soon(consumer)
        await wait_all_tasks_blocked()  # parked in __anext__ on an empty channel
        s.send_nowait(7)
        await wait_all_tasks_blocked()  # took it and parked again
        assert r.statistics().tasks_waiting_receive == 1
        await s.aclose()
    assert got == [7, -1]


async def test_anext_works_with_and_without_a_default() -> None:
    # __anext__ is a generator-based coroutine (see docs/porting.md): the builtin
    # anext(), with and without a default, must treat it as any awaitable.
    s, r = open_memory_channel[int](2)
    await s.send(1)
    await s.send(2)
    assert await anext(r) == 1
    assert await anext(r, -1) == 2
    await s.aclose()
    assert await anext(r, -1) == -1
    with pytest.raises(StopAsyncIteration):
        await anext(r)


# -- cancellation ----------------------------------------------------------------------------


async def test_cancelled_send_delivers_nothing_and_leaves_no_waiter() -> None:
    s, r = open_memory_channel[str](0)
    scope = nursery.CancelScope()

    async def sender() -> None:
        with scope:
            await s.send("lost")

    async with nursery.open_nursery() as n:
        n.start_soon(sender)
        await wait_all_tasks_blocked()
        assert stats(s)["senders"] == 1
        scope.cancel()
        await wait_all_tasks_blocked()
        assert stats(s)["senders"] == 0
    with pytest.raises(WouldBlock):
        r.receive_nowait()
    assert scope.cancelled_caught


async def test_cancelled_receive_loses_nothing_and_leaves_no_waiter() -> None:
    s, r = open_memory_channel[str](0)
    out = Outcomes()
    async with nursery.open_nursery() as n:
        scope = nursery.CancelScope()

        async def receiver() -> object:
            with scope:
                return await r.receive()
            return "cancelled"

        out.start(n, "first", receiver)
        await wait_all_tasks_blocked()
        out.start(n, "second", r.receive)
        await wait_all_tasks_blocked()
        scope.cancel()
        await wait_all_tasks_blocked()
        assert stats(r)["receivers"] == 1
        await s.send("item")
    assert out.results == {"first": ("ok", "cancelled"), "second": ("ok", "item")}


async def test_send_in_a_cancelled_scope_does_nothing_even_with_room() -> None:
    s, r = open_memory_channel[str](5)
    with nursery.CancelScope() as scope:
        scope.cancel()
        await s.send("never")
    assert scope.cancelled_caught
    assert s.statistics().current_buffer_used == 0


async def test_send_in_a_cancelled_scope_does_not_hand_off_to_a_waiting_receiver() -> None:
    s, r = open_memory_channel[str](0)
    async with nursery.open_nursery() as n:
        n.start_soon(r.receive)
        await wait_all_tasks_blocked()
        with nursery.CancelScope() as scope:
            scope.cancel()
            await s.send("never")
        assert stats(r)["receivers"] == 1
        s.send_nowait("later")


async def test_receive_in_a_cancelled_scope_takes_nothing() -> None:
    s, r = open_memory_channel[str](5)
    s.send_nowait("kept")
    with nursery.CancelScope() as scope:
        scope.cancel()
        await r.receive()
    assert scope.cancelled_caught
    assert r.receive_nowait() == "kept"


async def test_a_receiver_handed_an_item_keeps_it_even_if_cancelled_right_after() -> None:
    s, r = open_memory_channel[str](0)
    scope = nursery.CancelScope()
    got: list[str] = []

    async def receiver() -> None:
        with scope:
            got.append(await r.receive())
            await nursery.lowlevel.checkpoint()  # where the cancellation lands

    async with nursery.open_nursery() as n:
        n.start_soon(receiver)
        await wait_all_tasks_blocked()
        s.send_nowait("item")  # handed over: the receiver is now runnable
        scope.cancel()  # before it runs
    assert got == ["item"]
    assert scope.cancelled_caught


async def test_a_sender_whose_item_was_taken_completes_even_if_cancelled_right_after() -> None:
    s, r = open_memory_channel[str](0)
    scope = nursery.CancelScope()
    completed: list[bool] = []

    async def sender() -> None:
        with scope:
            await s.send("item")
            completed.append(True)
            await nursery.lowlevel.checkpoint()

    async with nursery.open_nursery() as n:
        n.start_soon(sender)
        await wait_all_tasks_blocked()
        assert r.receive_nowait() == "item"
        scope.cancel()
    assert completed == [True]


@pytest.mark.parametrize("buffer", [0, 1, 3])
@pytest.mark.parametrize("cancel_at", range(12))
async def test_cancellation_at_every_await_of_a_stream(
    buffer: int, cancel_at: int, autojump_clock: MockClock
) -> None:
    # A producer sends 0..9, a consumer receives; the whole thing is cancelled after
    # `cancel_at` steps of virtual time. Whatever the moment: what was received is a
    # prefix of what was sent, nothing twice, and no waiter is left registered.
    s, r = open_memory_channel[int](buffer)
    sent: list[int] = []
    received: list[int] = []

    async def producer() -> None:
        for i in range(10):
            await s.send(i)
            sent.append(i)
            await nursery.sleep(1)

    async def consumer() -> None:
        while True:
            received.append(await r.receive())
            await nursery.sleep(1.5)

    with nursery.move_on_after(cancel_at + 0.5):
        async with nursery.open_nursery() as n:
            n.start_soon(producer)
            n.start_soon(consumer)
    # Sent but unreceived items are still in the buffer; nothing is lost or doubled.
    leftovers = []
    while True:
        try:
            leftovers.append(r.receive_nowait())
        except WouldBlock:
            break
    assert received + leftovers == sent
    assert stats(s)["senders"] == 0 and stats(s)["receivers"] == 0


# -- as_safe_channel -------------------------------------------------------------------------


async def test_as_safe_channel_streams_the_generator() -> None:
    @nursery.as_safe_channel
    async def numbers(start: int, *, stop: int) -> AsyncGenerator[int, None]:
        for i in range(start, stop):
            yield i

    async with numbers(2, stop=6) as channel:
        assert isinstance(channel, ReceiveChannel)
        assert [item async for item in channel] == [2, 3, 4, 5]
    assert numbers.__name__ == "numbers"


async def test_as_safe_channel_produces_only_on_demand() -> None:
    log: list[str] = []

    @nursery.as_safe_channel
    async def producer() -> AsyncGenerator[int, None]:
        for i in range(3):
            log.append(f"make {i}")
            yield i

    async with producer() as channel:
        await wait_all_tasks_blocked()
        assert log == []  # nothing asked for yet
        assert await channel.receive() == 0
        await wait_all_tasks_blocked()
        assert log == ["make 0"]
        assert await channel.receive() == 1
        await wait_all_tasks_blocked()
        assert log == ["make 0", "make 1"]


async def test_as_safe_channel_generator_may_yield_inside_nurseries_and_scopes() -> None:
    @nursery.as_safe_channel
    async def ticks() -> AsyncGenerator[str, None]:
        async with nursery.open_nursery() as n:
            n.start_soon(nursery.sleep, 0)
            with nursery.move_on_after(100):
                yield "inside"
                yield "still inside"

    async with ticks() as channel:
        assert [item async for item in channel] == ["inside", "still inside"]


async def test_as_safe_channel_early_exit_closes_the_generator(autojump_clock: MockClock) -> None:
    log: list[str] = []

    @nursery.as_safe_channel
    async def forever() -> AsyncGenerator[int, None]:
        try:
            i = 0
            while True:
                yield i
                i += 1
        finally:
            log.append("closed")

    async with forever() as channel:
        async for item in channel:
            if item == 2:
                break
        assert log == []
    assert log == ["closed"]


async def test_as_safe_channel_early_exit_while_generator_sits_in_a_nursery() -> None:
    log: list[str] = []

    @nursery.as_safe_channel
    async def gen() -> AsyncGenerator[int, None]:
        async with nursery.open_nursery():
            try:
                yield 1
                yield 2
            finally:
                log.append("finally")

    async with gen() as channel:
        assert await channel.receive() == 1
    assert log == ["finally"]


async def test_as_safe_channel_generator_error_comes_out_unwrapped() -> None:
    @nursery.as_safe_channel
    async def failing() -> AsyncGenerator[int, None]:
        yield 1
        raise KeyError("from the generator")

    received: list[int] = []
    with pytest.raises(KeyError, match="from the generator"):
        async with failing() as channel:
            async for item in channel:
                received.append(item)
    assert received == [1]


async def test_as_safe_channel_body_error_comes_out_unwrapped() -> None:
    @nursery.as_safe_channel
    async def gen() -> AsyncGenerator[int, None]:
        yield 1

    with pytest.raises(ValueError, match="from the body") as info:
        async with gen() as channel:
            await channel.receive()
            raise ValueError("from the body")
    assert not isinstance(info.value.__context__, BaseExceptionGroup)


async def test_as_safe_channel_two_errors_come_out_as_a_group() -> None:
    @nursery.as_safe_channel
    async def gen() -> AsyncGenerator[int, None]:
        yield 1
        try:
            yield 2
        finally:
            raise KeyError("generator")  # noqa: B012

    with pytest.raises(BaseExceptionGroup) as info:
        async with gen() as channel:
            await channel.receive()
            await channel.receive()
            raise ValueError("body")
    assert {type(e) for e in info.value.exceptions} == {KeyError, ValueError}


async def test_as_safe_channel_outer_cancellation(autojump_clock: MockClock) -> None:
    @nursery.as_safe_channel
    async def slow() -> AsyncGenerator[int, None]:
        while True:
            await nursery.sleep(10)
            yield 1

    with nursery.move_on_after(25) as scope:
        async with slow() as channel:
            async for _ in channel:
                pass
    assert scope.cancelled_caught


async def test_as_safe_channel_consumer_closing_its_end_stops_the_generator() -> None:
    made: list[int] = []

    @nursery.as_safe_channel
    async def gen() -> AsyncGenerator[int, None]:
        for i in range(10):
            made.append(i)
            yield i

    async with gen() as channel:
        assert await channel.receive() == 0
        await channel.aclose()
        with pytest.raises(ClosedResourceError):
            await channel.receive()
        await wait_all_tasks_blocked()
    assert made in ([0], [0, 1])  # at most one item made that nobody takes


async def test_as_safe_channel_rejects_a_non_generator() -> None:
    async def not_a_generator() -> int:
        return 1

    wrapped: Any = nursery.as_safe_channel(not_a_generator)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="async generator"):
        async with wrapped():
            pass


async def test_as_safe_channel_sequenced_with_another_task() -> None:
    seq = Sequencer()
    log: list[str] = []

    @nursery.as_safe_channel
    async def gen() -> AsyncGenerator[str, None]:
        async with seq(1):
            log.append("generator runs")
        yield "item"

    async def other() -> None:
        async with seq(0):
            log.append("other first")

    async with nursery.open_nursery() as n:
        n.start_soon(other)
        async with gen() as channel:
            assert await channel.receive() == "item"
    assert log == ["other first", "generator runs"]


# -- property tests --------------------------------------------------------------------------
#
# 1. Against a sequential model. The test's task performs one operation at a time;
#    blocking operations run in tasks of their own, and after each operation
#    wait_all_tasks_blocked() lets everything settle. At that point the model predicts
#    exactly which task got which item or error, and the channel's statistics.
# 2. Concurrent producers and consumers, scheduled by a seeded run, with cancellations:
#    every item that a send reports as sent is received exactly once, in the order of
#    its sender, and nothing a cancelled send tried to send arrives.


# Mostly sends and receives, so that queues of waiting tasks build up on both sides
# before an occasional close ends the channel.
_KINDS = ["send"] * 6 + ["receive"] * 6 + ["send_nowait", "receive_nowait"] * 2
_KINDS += ["cancel"] * 2 + ["clone_send", "clone_receive", "close_send", "close_receive"]
OPS = st.lists(st.tuples(st.sampled_from(_KINDS), st.integers(0, 20)), max_size=40)


class Model:
    """What a memory channel should do, one operation at a time."""

    def __init__(self, size: int | float) -> None:
        self.size = size
        self.buffer: deque[int] = deque()
        self.peak = 0
        self.send_open: list[bool] = [True]
        self.receive_open: list[bool] = [True]
        self.senders: OrderedDict[int, tuple[int, int]] = OrderedDict()  # task -> (h, v)
        self.receivers: OrderedDict[int, int] = OrderedDict()  # task -> handle
        self.outcome: dict[int, object] = {}  # task -> result

    def _push(self, value: int) -> None:
        self.buffer.append(value)
        self.peak = max(self.peak, len(self.buffer))

    def send(self, task: int, handle: int, value: int, blocking: bool) -> object:
        if not self.send_open[handle]:
            return ("error", ClosedResourceError)
        if self.receivers:
            receiver, _ = self.receivers.popitem(last=False)
            self.outcome[receiver] = ("ok", value)
            return ("ok", None)
        if not any(self.receive_open):
            return ("error", BrokenResourceError)
        if len(self.buffer) < self.size:
            self._push(value)
            return ("ok", None)
        if not blocking:
            return ("error", WouldBlock)
        self.senders[task] = (handle, value)
        return None  # pending

    def receive(self, task: int, handle: int, blocking: bool) -> object:
        if not self.receive_open[handle]:
            return ("error", ClosedResourceError)
        if self.senders:
            sender, (_, value) = self.senders.popitem(last=False)
            self.outcome[sender] = ("ok", None)
            if self.buffer:
                self.buffer.append(value)
                value = self.buffer.popleft()
            return ("ok", value)
        if self.buffer:
            return ("ok", self.buffer.popleft())
        if not any(self.send_open):
            return ("error", EndOfChannel)
        if not blocking:
            return ("error", WouldBlock)
        self.receivers[task] = handle
        return None

    def cancel(self, task: int) -> None:
        if task in self.senders:
            del self.senders[task]
            self.outcome[task] = ("cancelled",)
        elif task in self.receivers:
            del self.receivers[task]
            self.outcome[task] = ("cancelled",)

    def close_send(self, handle: int) -> None:
        if not self.send_open[handle]:
            return
        self.send_open[handle] = False
        for task, (h, _) in list(self.senders.items()):
            if h == handle:
                del self.senders[task]
                self.outcome[task] = ("error", ClosedResourceError)
        if not any(self.send_open):
            for task in self.receivers:
                self.outcome[task] = ("error", EndOfChannel)
            self.receivers.clear()

    def close_receive(self, handle: int) -> None:
        if not self.receive_open[handle]:
            return
        self.receive_open[handle] = False
        for task, h in list(self.receivers.items()):
            if h == handle:
                del self.receivers[task]
                self.outcome[task] = ("error", ClosedResourceError)
        if not any(self.receive_open):
            for task in self.senders:
                self.outcome[task] = ("error", BrokenResourceError)
            self.senders.clear()
            self.buffer.clear()

    def statistics(self) -> MemoryChannelStatistics:
        return MemoryChannelStatistics(
            current_buffer_used=len(self.buffer),
            max_buffer_size=self.size,
            open_send_channels=sum(self.send_open),
            open_receive_channels=sum(self.receive_open),
            tasks_waiting_send=len(self.senders),
            tasks_waiting_receive=len(self.receivers),
            peak_buffer_used=self.peak,
        )


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(size=st.sampled_from([0, 1, 2, math.inf]), ops=OPS)
async def test_channel_matches_a_sequential_model(size: int | float, ops: list[Any]) -> None:
    model = Model(size)
    s, r = open_memory_channel[int](size)
    sends = [s]
    receives = [r]
    scopes: list[nursery.CancelScope] = []
    actual: dict[int, object] = {}
    next_value = 0

    def start(n: nursery.Nursery, op: Callable[[], Awaitable[object]]) -> int:
        task = len(scopes)
        scope = nursery.CancelScope()
        scopes.append(scope)

        async def run() -> None:
            with scope:
                try:
                    actual[task] = ("ok", await op())
                except Exception as exc:
                    actual[task] = ("error", type(exc))
                return
            actual[task] = ("cancelled",)

        n.start_soon(run)
        return task

    async with nursery.open_nursery() as n:
        for kind, arg in ops:
            if kind in ("send", "send_nowait"):
                h = arg % len(sends)
                value, next_value = next_value, next_value + 1
                if kind == "send":
                    task = start(n, functools.partial(sends[h].send, value))
                    expected = model.send(task, h, value, blocking=True)
                else:
                    task = len(scopes)
                    scopes.append(nursery.CancelScope())
                    try:
                        sends[h].send_nowait(value)
                        actual[task] = ("ok", None)
                    except Exception as exc:
                        actual[task] = ("error", type(exc))
                    expected = model.send(task, h, value, blocking=False)
            elif kind in ("receive", "receive_nowait"):
                h = arg % len(receives)
                if kind == "receive":
                    task = start(n, receives[h].receive)
                    expected = model.receive(task, h, blocking=True)
                else:
                    task = len(scopes)
                    scopes.append(nursery.CancelScope())
                    try:
                        actual[task] = ("ok", receives[h].receive_nowait())
                    except Exception as exc:
                        actual[task] = ("error", type(exc))
                    expected = model.receive(task, h, blocking=False)
            elif kind == "cancel":
                if not scopes:
                    continue
                task = arg % len(scopes)
                scopes[task].cancel()
                model.cancel(task)
                expected = None
            elif kind == "close_send":
                h = arg % len(sends)
                sends[h].close()
                model.close_send(h)
                expected = None
            elif kind == "close_receive":
                h = arg % len(receives)
                receives[h].close()
                model.close_receive(h)
                expected = None
            else:
                handles: list[Any] = sends if kind == "clone_send" else receives
                h = arg % len(handles)
                try:
                    handles.append(handles[h].clone())
                except ClosedResourceError:
                    assert not (model.send_open if kind == "clone_send" else model.receive_open)[h]
                else:
                    (model.send_open if kind == "clone_send" else model.receive_open).append(True)
                continue
            if expected is not None:
                model.outcome[task] = expected
            await wait_all_tasks_blocked()
            assert actual == model.outcome, (kind, arg)
            assert s.statistics() == model.statistics()
            assert s.statistics().current_buffer_used <= size
        # Let the sleepers go, so the nursery can close.
        for scope in scopes:
            scope.cancel()
    assert s.statistics().tasks_waiting_send == 0
    assert s.statistics().tasks_waiting_receive == 0


@settings(max_examples=150, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    size=st.sampled_from([0, 1, 3, math.inf]),
    producers=st.integers(1, 4),
    consumers=st.integers(1, 4),
    per_producer=st.integers(0, 12),
    patience=st.lists(st.floats(0.5, 20), min_size=8, max_size=8),
)
def test_every_item_is_received_once_in_per_sender_order(
    seed: int,
    size: int | float,
    producers: int,
    consumers: int,
    per_producer: int,
    patience: list[float],
) -> None:
    # Explicit runs, so that Hypothesis also chooses the scheduler's seed, and with it
    # the interleaving (and shrinks it, and replays it).
    async def main() -> tuple[dict[int, list[int]], list[list[tuple[int, int]]], Any]:
        s, r = open_memory_channel[tuple[int, int]](size)
        delivered: dict[int, list[int]] = {p: [] for p in range(producers)}
        # Per consumer: two consumers' appends run in whatever order the scheduler
        # picks, so only each consumer's own sequence says in which order it took items.
        received: list[list[tuple[int, int]]] = [[] for _ in range(consumers)]

        async def producer(p: int, send: MemorySendChannel[tuple[int, int]]) -> None:
            with send:
                for i in range(per_producer):
                    # Some sends give up (cancelled) before anyone takes their item.
                    with nursery.move_on_after(patience[(p + i) % 8]):
                        await send.send((p, i))
                        delivered[p].append(i)
                    await nursery.sleep(patience[i % 8] / 10)

        async def consumer(c: int, receive: MemoryReceiveChannel[tuple[int, int]]) -> None:
            with receive:
                while True:
                    # Some receives are cancelled while they wait.
                    with nursery.move_on_after(patience[c % 8]):
                        try:
                            received[c].append(await receive.receive())
                        except EndOfChannel:
                            return
                    await nursery.sleep(patience[(c + 3) % 8] / 4)

        async with nursery.open_nursery() as n:
            with s, r:
                for p in range(producers):
                    n.start_soon(producer, p, s.clone())
                for c in range(consumers):
                    n.start_soon(consumer, c, r.clone())
        return delivered, received, s.statistics()

    delivered, received, final = nursery.run(
        main, clock=MockClock(autojump_threshold=0), random_seed=seed
    )
    everything = [item for items in received for item in items]
    assert len(everything) == len(set(everything))  # nothing twice
    assert set(everything) == {(p, i) for p, items in delivered.items() for i in items}
    for p, items in delivered.items():
        for mine in received:
            # Whoever takes a sender's items takes them in the order they were sent
            # (with one consumer: exactly that order).
            taken = [i for (q, i) in mine if q == p]
            assert taken == sorted(taken)
            if consumers == 1:
                assert taken == items
    assert final.tasks_waiting_send == final.tasks_waiting_receive == 0
    assert final.peak_buffer_used <= size


@pytest.mark.skipif(
    signal.getsignal(signal.SIGINT) is not signal.default_int_handler,
    reason="SIGINT has a custom handler in this process",
)
@pytest.mark.parametrize("op", ["send", "receive"])
def test_a_pending_keyboard_interrupt_arrives_at_send_and_receive_doing_nothing(op: str) -> None:
    s, r = open_memory_channel[int](5)
    s.send_nowait(1)

    @nursery.lowlevel.enable_ki_protection
    async def main() -> None:
        signal.raise_signal(signal.SIGINT)  # protected: delivered at the next checkpoint
        if op == "send":
            await s.send(2)
        else:
            await r.receive()

    with pytest.raises(KeyboardInterrupt):
        nursery.run(main)
    assert s.statistics().current_buffer_used == 1  # neither sent nor taken
