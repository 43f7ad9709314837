"""nursery.testing.Sequencer: forcing blocks in different tasks into an order."""

from __future__ import annotations

import pytest

import nursery
from nursery.testing import Sequencer, assert_checkpoints, wait_all_tasks_blocked


async def test_blocks_run_in_sequence_order_across_tasks() -> None:
    seq = Sequencer()
    log: list[int] = []

    async def worker(positions: list[int]) -> None:
        for position in positions:
            async with seq(position):
                log.append(position)

    async with nursery.open_nursery() as n:
        # Started in an order unrelated to the sequence.
        n.start_soon(worker, [5, 7])
        n.start_soon(worker, [2, 4, 6])
        n.start_soon(worker, [0, 3])
        n.start_soon(worker, [1])
    assert log == list(range(8))


async def test_next_block_waits_until_the_previous_one_is_left() -> None:
    seq = Sequencer()
    log: list[str] = []

    async def first() -> None:
        async with seq(0):
            log.append("0 entered")
            # Even while this block waits, block 1 must not start.
            await wait_all_tasks_blocked()
            log.append("0 leaving")

    async def second() -> None:
        async with seq(1):
            log.append("1 entered")

    async with nursery.open_nursery() as n:
        n.start_soon(second)
        n.start_soon(first)
    assert log == ["0 entered", "0 leaving", "1 entered"]


async def test_position_zero_enters_at_once() -> None:
    seq = Sequencer()
    async with seq(0):
        pass


async def test_waiting_for_a_position_is_a_checkpoint() -> None:
    seq = Sequencer()
    async with seq(0):
        pass
    # Position 1 is already free, but entering it is still a checkpoint.
    with assert_checkpoints():
        async with seq(1):
            pass


async def test_block_left_by_an_exception_still_releases_the_next() -> None:
    seq = Sequencer()
    log: list[str] = []

    async def failing() -> None:
        with pytest.raises(KeyError):
            async with seq(0):
                raise KeyError("inside block 0")

    async def next_one() -> None:
        async with seq(1):
            log.append("1 ran")

    async with nursery.open_nursery() as n:
        n.start_soon(next_one)
        n.start_soon(failing)
    assert log == ["1 ran"]


async def test_reusing_a_position_is_a_runtime_error() -> None:
    seq = Sequencer()
    async with seq(0):
        pass
    with pytest.raises(RuntimeError):
        async with seq(0):
            pass  # pragma: no cover


async def test_cancelled_waiter_breaks_the_sequencer() -> None:
    seq = Sequencer()
    scope = nursery.CancelScope()
    errors: dict[str, BaseException] = {}

    async def cancelled_waiter() -> None:
        with scope:
            try:
                async with seq(2):
                    pass  # pragma: no cover
            except RuntimeError as exc:
                errors["cancelled"] = exc

    async def other_waiter() -> None:
        try:
            async with seq(1):
                pass  # pragma: no cover
        except RuntimeError as exc:
            errors["waiting"] = exc

    async with nursery.open_nursery() as n:
        n.start_soon(cancelled_waiter)
        n.start_soon(other_waiter)
        await wait_all_tasks_blocked()
        scope.cancel()
    # The cancelled task gets a RuntimeError rather than Cancelled, and so
    # does every task that was waiting...
    assert set(errors) == {"cancelled", "waiting"}
    assert not scope.cancelled_caught
    # ...or comes later, even for a position that was free.
    with pytest.raises(RuntimeError):
        async with seq(0):
            pass  # pragma: no cover
    with pytest.raises(RuntimeError):
        async with seq(3):
            pass  # pragma: no cover


async def test_independent_sequencers_do_not_interact() -> None:
    a, b = Sequencer(), Sequencer()
    async with a(0), b(0):
        pass
    async with b(1), a(1):
        pass
