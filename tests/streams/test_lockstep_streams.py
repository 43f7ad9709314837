"""Lockstep streams: send_all returns only once the receiver took everything."""

from __future__ import annotations

import pytest

import nursery
from nursery.testing import (
    assert_checkpoints,
    lockstep_stream_one_way_pair,
    lockstep_stream_pair,
    wait_all_tasks_blocked,
)


async def test_send_all_waits_until_everything_is_received() -> None:
    send, receive = lockstep_stream_one_way_pair()
    log: list[str] = []

    async def sender() -> None:
        await send.send_all(b"abcdef")
        log.append("sent")

    async with nursery.open_nursery() as n:
        n.start_soon(sender)
        await wait_all_tasks_blocked()
        assert log == []
        assert await receive.receive_some(4) == b"abcd"
        await wait_all_tasks_blocked()
        assert log == []  # two bytes are still in the pipe
        assert await receive.receive_some() == b"ef"
    assert log == ["sent"]


async def test_cancelled_send_withdraws_what_was_not_taken() -> None:
    send, receive = lockstep_stream_one_way_pair()
    with nursery.move_on_after(1) as scope:
        async with nursery.open_nursery() as n:
            n.start_soon(send.send_all, b"withdrawn")
            await wait_all_tasks_blocked()
            scope.cancel()
    assert scope.cancelled_caught

    async with nursery.open_nursery() as n:
        n.start_soon(send.send_all, b"next")
        assert await receive.receive_some() == b"next"


async def test_wait_send_all_might_not_block_waits_for_a_receiver() -> None:
    send, receive = lockstep_stream_one_way_pair()
    log: list[str] = []

    async def waiter() -> None:
        await send.wait_send_all_might_not_block()
        log.append("ready")

    async with nursery.open_nursery() as n:
        n.start_soon(waiter)
        await wait_all_tasks_blocked()
        assert log == []
        n.start_soon(receive.receive_some)
        await wait_all_tasks_blocked()
        assert log == ["ready"]
        await send.send_all(b"x")


async def test_closing_each_end() -> None:
    send, receive = lockstep_stream_one_way_pair()

    async def receiver() -> None:
        assert await receive.receive_some() == b""

    async with nursery.open_nursery() as n:
        n.start_soon(receiver)
        await wait_all_tasks_blocked()
        await send.aclose()
    with pytest.raises(nursery.ClosedResourceError):
        await send.send_all(b"x")
    with pytest.raises(nursery.ClosedResourceError):
        await send.wait_send_all_might_not_block()
    await receive.aclose()
    with pytest.raises(nursery.ClosedResourceError):
        await receive.receive_some()

    send, receive = lockstep_stream_one_way_pair()

    async def blocked_sender() -> None:
        with pytest.raises(nursery.BrokenResourceError):
            await send.send_all(b"nobody takes this")

    async with nursery.open_nursery() as n:
        n.start_soon(blocked_sender)
        await wait_all_tasks_blocked()
        await receive.aclose()
    with pytest.raises(nursery.BrokenResourceError):
        await send.send_all(b"x")


async def test_close_wakes_own_blocked_tasks() -> None:
    send, _ = lockstep_stream_one_way_pair()
    _, receive = lockstep_stream_one_way_pair()

    async def expect_closed(fn: object) -> None:
        with pytest.raises(nursery.ClosedResourceError):
            await fn()  # type: ignore[operator]

    async with nursery.open_nursery() as n:
        n.start_soon(expect_closed, lambda: send.send_all(b"x" * 10))
        n.start_soon(expect_closed, receive.receive_some)
        await wait_all_tasks_blocked()
        await send.aclose()
        await receive.aclose()


async def test_busy_and_bad_max_bytes() -> None:
    left, right = lockstep_stream_pair()
    async with nursery.open_nursery() as n:
        n.start_soon(left.send_all, b"x")
        n.start_soon(left.receive_some)
        await wait_all_tasks_blocked()
        with pytest.raises(nursery.BusyResourceError):
            await left.send_all(b"y")
        with pytest.raises(nursery.BusyResourceError):
            await left.wait_send_all_might_not_block()
        with pytest.raises(nursery.BusyResourceError):
            await left.receive_some()
        with pytest.raises(ValueError):
            await right.receive_some(0)
        assert await right.receive_some() == b"x"
        await right.send_all(b"z")


async def test_operations_are_checkpoints() -> None:
    send, receive = lockstep_stream_one_way_pair()
    with assert_checkpoints():
        await send.send_all(b"")
    with assert_checkpoints():
        await send.aclose()
    with assert_checkpoints():
        await receive.receive_some()  # the end of the stream: nothing to wait for
    with assert_checkpoints():
        await receive.aclose()
